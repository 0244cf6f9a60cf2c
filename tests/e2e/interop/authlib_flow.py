#!/usr/bin/python3
"""Debian's python3-authlib drives boltauth: code exchange with PKCE (the code comes from the harness, bound to
the challenge of a verifier it chose, as the authorization endpoint would bind it), id_token signature and claims
checked with authlib.jose against the JWKS named by discovery, userinfo, refresh, introspection, revocation.

Usage: authlib_flow.py CONFIG_JSON   (issuer, client_id, client_secret, redirect_uri, code, code_verifier,
                                      code_challenge, nonce, scope). Exit 0 when every check passed."""
import json
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def main():
    cfg = json.loads(sys.argv[1])
    issuer = cfg["issuer"]
    meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    check(meta["issuer"] == issuer, "discovery issuer %r != %r" % (meta["issuer"], issuer))
    jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())

    # authlib's own S256 must agree with the challenge the code was bound to (RFC 7636 section 4.2).
    check(create_s256_code_challenge(cfg["code_verifier"]) == cfg["code_challenge"], "S256 challenge differs")

    # client_secret_basic: authlib form-urlencodes the id and secret before base64 (RFC 6749 section 2.3.1).
    session = OAuth2Session(cfg["client_id"], cfg["client_secret"], scope=cfg["scope"],
                            redirect_uri=cfg["redirect_uri"], token_endpoint_auth_method="client_secret_basic",
                            code_challenge_method="S256")
    token = session.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=cfg["code"],
                                code_verifier=cfg["code_verifier"], scope=cfg["scope"])
    for field in ("access_token", "refresh_token", "id_token", "expires_in"):
        check(field in token, "token response lacks " + field)
    check(token["token_type"].lower() == "bearer", "token_type " + token["token_type"])

    # OIDC Core 3.1.3.7 with authlib's CodeIDToken: signature, iss, aud, azp, exp, iat, nonce, at_hash.
    claims = jwt.decode(token["id_token"], jwks, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": issuer}},
                        claims_params={"nonce": cfg["nonce"], "client_id": cfg["client_id"],
                                       "access_token": token["access_token"]})
    claims.validate(leeway=30)
    # This session authenticated with the full publishable key at the token endpoint discovery advertises: aud
    # holds the canonical id and that spelling, azp is that spelling (OIDC Core 3.1.3.7 steps 3-5).
    canonical = cfg["client_id"].split(".")[-1]
    check(claims["aud"] == [canonical, cfg["client_id"]], "aud %r" % (claims["aud"],))
    check(claims["azp"] == cfg["client_id"], "azp %r" % (claims["azp"],))
    check(claims.header["alg"] == "RS256", "alg " + claims.header["alg"])

    info = session.get(meta["userinfo_endpoint"], timeout=10)
    check(info.status_code == 200, "userinfo %d %s" % (info.status_code, info.text))
    check(info.json()["sub"] == claims["sub"], "userinfo sub differs from the id_token's")

    first_refresh = token["refresh_token"]
    refreshed = session.refresh_token(meta["token_endpoint"], refresh_token=first_refresh, scope="bolt.account.view")
    check(refreshed["refresh_token"] != first_refresh, "refresh token did not rotate")
    check("id_token" not in refreshed, "a refresh response carries no id_token")

    def introspect(value, hint=None):
        res = session.introspect_token(meta["introspection_endpoint"], token=value, token_type_hint=hint)
        check(res.status_code == 200, "introspect %d %s" % (res.status_code, res.text))
        check(res.headers.get("Cache-Control") == "no-store", "introspection is cacheable")
        return res.json()

    live = introspect(refreshed["access_token"], "access_token")
    check(live["active"] is True, "refreshed access token inactive: %r" % live)
    check(live["sub"] == claims["sub"] and live["client_id"] == canonical, "introspection names another party")
    check(introspect(first_refresh) == {"active": False}, "rotated refresh token still active")

    res = session.revoke_token(meta["revocation_endpoint"], token=refreshed["refresh_token"],
                               token_type_hint="refresh_token")
    check(res.status_code == 200, "revoke %d %s" % (res.status_code, res.text))
    check(introspect(refreshed["refresh_token"]) == {"active": False}, "revoked refresh token still active")
    check(introspect(refreshed["access_token"]) == {"active": False}, "revoking the refresh token left its family")
    print("authlib flow: every check passed")


if __name__ == "__main__":
    main()
