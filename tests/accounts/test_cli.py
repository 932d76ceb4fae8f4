from blueprints.accounts.models import Unit, User
from extensions import db


def test_units_and_users_are_created_from_the_command_line(app, runner):
    result = runner.invoke(args=["units", "create", "GIE", "Gieten", "--kind", "branch", "--branch-code", "9428"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["users", "create", "bert", "--role", "counter_staff", "--unit", "GIE", "--language", "nl"],
        input="een-lang-wachtwoord-77\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "bert"))
        assert user.language == "nl"
        assert [(a.role, a.unit.branch_code) for a in user.role_assignments] == [("counter_staff", "9428")]


def test_users_create_refuses_a_weak_password(app, runner):
    runner.invoke(args=["units", "create", "L", "Library", "--kind", "library"])
    result = runner.invoke(args=["users", "create", "bert", "--role", "registrar", "--unit", "L"], input="short\n")
    assert result.exit_code != 0
    assert "Use at least 12 characters." in result.output
    with app.app_context():
        assert db.session.scalar(db.select(User)) is None


def test_a_branch_needs_a_branch_code(runner):
    result = runner.invoke(args=["units", "create", "GIE", "Gieten", "--kind", "branch"])
    assert result.exit_code != 0


def test_seed_demo_prints_passwords_once_and_only_on_an_empty_database(app, runner):
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "admin" in first.output and "demo-" in first.output
    second = runner.invoke(args=["seed-demo", "--if-empty"])
    assert second.exit_code == 0 and "demo-" not in second.output
    with app.app_context():
        kinds = {u.kind for u in db.session.scalars(db.select(Unit))}
        assert kinds == {"library", "school", "higher_education", "branch"}


def test_the_command_line_refuses_a_taken_unit_code_and_username_as_the_pages_do(app, runner):
    runner.invoke(args=["units", "create", "L", "Library", "--kind", "library"])
    again = runner.invoke(args=["units", "create", "L", "Other library", "--kind", "library"])
    assert again.exit_code != 0 and "Another unit has this code or branch code." in again.output
    runner.invoke(args=["users", "create", "bert", "--role", "registrar", "--unit", "L"],
                  input="een-lang-wachtwoord-77\n")
    taken = runner.invoke(args=["users", "create", "BERT", "--role", "registrar", "--unit", "L"],
                          input="een-lang-wachtwoord-77\n")
    assert taken.exit_code != 0 and "This username is taken." in taken.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Unit.id))) == 1
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1
