"""Every page of the area renders for its users."""
from common.access import Role


def test_pages_render(client, auth, start, make_user):
    sid = start(topics=("banking",))
    for path in ["/guide/", "/guide/today", f"/guide/sessions/{sid}", f"/guide/sessions/{sid}/checklist",
                 f"/guide/sessions/{sid}/end", "/guide/checklist/print", "/guide/statistics", "/guide/statistics.csv"]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:2000])
    make_user("boss", (Role.SERVICE_ADMIN, None))
    auth.logout()
    auth.login("boss")
    for path in ["/guide/admin/checklist", "/guide/admin/checklist/items/new", "/guide/statistics"]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:2000])
