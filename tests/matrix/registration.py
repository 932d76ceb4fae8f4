from datetime import date

from tests.matrix import ADMIN, MAIN_USER, PUBLIC, REGISTRAR, REGISTRAR_OTHER, Access

CELIA_STAFF = frozenset({ADMIN, REGISTRAR, REGISTRAR_OTHER, MAIN_USER})
UNIT_L = frozenset({ADMIN, REGISTRAR, MAIN_USER})  # registrar of L2 gets 404, as for a unit that does not exist
ONLY_ADMIN = frozenset({ADMIN})


def prepare(world):
    from blueprints.registration.demo import _customer, make_hetu
    from blueprints.registration.models import CustomerStatus, ServiceForm

    units = world.units
    mine = _customer(units["L"], make_hetu(date(1980, 1, 2), 101), "Aino", "Äijälä", email="aino@example.fi",
                     service_form=ServiceForm.CD)
    ended = _customer(units["L"], make_hetu(date(1981, 1, 2), 102), "Eino", "Loppu", status=CustomerStatus.ENDED)
    elsewhere_code = make_hetu(date(1982, 1, 2), 103)
    _customer(units["L2"], elsewhere_code, "Toinen", "Yksikkö")
    marked_code = make_hetu(date(1983, 1, 2), 104)
    marked = _customer(units["L"], marked_code, "Pekka", "Poistettava", status=CustomerStatus.MARKED_FOR_DELETION)
    from extensions import db

    db.session.flush()
    world.extra.update(customer=mine.id, ended=ended.id, marked=marked.id, elsewhere_code=elsewhere_code,
                       marked_code=marked_code)


def unit_l(world):
    return {"unit_id": world.units["L"].id}


def customer(world):
    return {"customer_id": world.extra["customer"]}


ROUTES = {
    "registration.index": Access(CELIA_STAFF, answers={REGISTRAR: 302, REGISTRAR_OTHER: 302, MAIN_USER: 302},
                                  notes="a registrar of one unit goes straight to it"),
    "registration.search": Access(CELIA_STAFF),
    "registration.reviews": Access(CELIA_STAFF),
    "registration.export_customers": Access(frozenset({MAIN_USER}), refused={ADMIN: 403},
                                            notes="main users only: a service admin is no unit's main user"),
    "registration.unit": Access(UNIT_L, args=unit_l),
    "registration.unit_customers": Access(UNIT_L, args=unit_l),
    "registration.check": Access(UNIT_L, method="POST", status=200, args=unit_l,
                                 data=lambda w: {"hetu": w.extra["elsewhere_code"], "basis": "reading_disability"}),
    "registration.new_customer": Access(UNIT_L, method="POST", status=200, args=unit_l,
                                        data=lambda w: {"hetu": "010101A123N", "start": "1"}),
    "registration.transfer": Access(UNIT_L, method="POST", args=unit_l,
                                    data=lambda w: {"hetu": w.extra["elsewhere_code"], "basis": "reading_disability"}),
    "registration.request_reactivation": Access(UNIT_L, method="POST", status=200, args=unit_l,
                                                data=lambda w: {"hetu": w.extra["marked_code"]}),
    "registration.customer": Access(UNIT_L, args=customer),
    "registration.customer_details": Access(UNIT_L, args=customer),
    "registration.edit_customer": Access(UNIT_L, args=customer),
    "registration.reveal_hetu": Access(UNIT_L, method="POST", args=customer, status=200),
    "registration.send_credentials": Access(UNIT_L, method="POST", args=customer,
                                            data=lambda w: {"recipient": "customer"}),
    "registration.end_customership": Access(UNIT_L, method="POST", args=customer),
    "registration.resume_customership": Access(UNIT_L, method="POST", args=lambda w: {"customer_id": w.extra["ended"]}),
    "registration.set_customer_password": Access(PUBLIC, args=lambda w: {"token": "no-such-link"}, status=410,
                                                 notes="an unknown link"),
    "registration.customer_password_form": Access(PUBLIC, status=410, notes="no link opened in this browser"),
    "registration.admin": Access(ONLY_ADMIN),
    "registration.reactivation_requests": Access(ONLY_ADMIN),
    "registration.reactivate": Access(ONLY_ADMIN, method="POST", args=lambda w: {"customer_id": w.extra["marked"]}),
    "registration.make_net_user": Access(ONLY_ADMIN, method="POST", args=customer),
    "registration.mark_for_deletion": Access(ONLY_ADMIN, method="POST", args=customer),
    "registration.register_without_hetu": Access(ONLY_ADMIN),
}
