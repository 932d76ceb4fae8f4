"""One way to refuse: the refusal types of common/refusals.py and the statuses they are answered with."""
from common.refusals import Conflict, NotAllowed, Refused, status_of


def test_bad_input_is_422_a_changed_state_409_and_not_allowed_403():
    assert status_of(Refused("Write a message first.", field="body")) == 422
    assert status_of(Refused("The chat has ended.")) == 422
    assert status_of(Conflict("This customer is already being served.")) == 409
    assert status_of(NotAllowed()) == 403


def test_a_refusal_keeps_its_message_and_field():
    refusal = Refused("Enter the street and city.", field="street")
    assert str(refusal) == refusal.message == "Enter the street and city."
    assert refusal.field == "street"
    assert Conflict("Taken.").field is None


def test_a_not_allowed_that_no_route_catches_is_answered_403(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        response = app.make_response(app.handle_user_exception(NotAllowed()))
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
