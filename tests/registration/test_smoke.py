from tests.registration.conftest import ADULT


def test_pages_render(client, auth, world, add_customer):
    cid = add_customer(world["L"])
    auth.login("reg")
    for url in ["/registration/", f"/registration/units/{world['L']}", f"/registration/units/{world['L']}/check?hetu={ADULT}",
                f"/registration/customers/{cid}", f"/registration/customers/{cid}/edit", "/registration/search?q=aij",
                "/registration/reviews", f"/registration/units/{world['L']}/customers/new?hetu=010101A123N"]:
        r = client.get(url)
        assert r.status_code in (200, 302), (url, r.status_code, r.text[:2000])
