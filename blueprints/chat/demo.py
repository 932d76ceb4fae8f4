"""Demo queues for the chat area."""
from blueprints.chat.models import ChatQueue


def seed(units):
    library = units["HKI-LIB"]
    from extensions import db

    db.session.add_all([
        ChatQueue(unit_id=library.id, name="Kirjastoneuvonta", is_open=True,
                  waiting_message="Tervetuloa! Asiakaspalvelijamme vastaa pian. Ole hyvä ja odota.",
                  keep_days=30, anonymise_after_days=7, contact_email="neuvonta@library.invalid"),
        ChatQueue(unit_id=library.id, name="Palveluesittely-Meet", is_open=True,
                  waiting_message="Odota hetki, palvelemme jonotusjärjestyksessä."),
        ChatQueue(unit_id=library.id, name="Tietokoneopastus", is_open=False,
                  waiting_message="Asiantuntija avaa jonon tarvittaessa."),
    ])
