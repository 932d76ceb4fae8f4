def test_pages_render(client, auth, world, add_customer):
    cid = add_customer(world["L"])
    auth.login("reg")
    for url in ["/registration/", f"/registration/units/{world['L']}",
                f"/registration/customers/{cid}", f"/registration/customers/{cid}/edit", "/registration/search",
                "/registration/reviews"]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code, r.text[:2000])
