/* A standard OpenID Connect client nobody here wrote, Debian's libiddawc, against a real boltauth: discovery, code
 * exchange (client_secret_basic, PKCE, no scope), id_token verification, userinfo, refresh with the original scope
 * and with none, introspection, revocation, and a reused code read as RFC 6749 section 5.2's invalid_grant.
 *
 * Usage: iddawc_flow ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI CODE CODE_VERIFIER NONCE SCOPE
 * Prints one line per step; exit 0 and "every check passed" when all passed. */
#include <iddawc.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("%s ", ok ? "ok  " : "FAIL");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  if (!ok) ++failures;
}

static const char* str_or(const char* s) { return s ? s : "(null)"; }

static int ends_with(const char* s, const char* suffix) {
  size_t n = s ? strlen(s) : 0, m = strlen(suffix);
  return s && n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The `scope` the access token was issued with, as introspection (RFC 7662) reports it; "" when inactive. */
static char* introspected_scope(struct _i_session* s, const char* token, int* active) {
  json_t* result = NULL;
  char* scope = NULL;
  *active = 0;
  i_set_str_parameter(s, I_OPT_TOKEN_TARGET, token);
  i_set_str_parameter(s, I_OPT_TOKEN_TARGET_TYPE_HINT, NULL);
  int rc = i_get_token_introspection(s, &result, I_INTROSPECT_REVOKE_AUTH_CLIENT_TARGET, 0);
  check(rc == I_OK && result != NULL, "introspection answers (rc %d)", rc);
  if (result) {
    *active = json_is_true(json_object_get(result, "active"));
    const char* v = json_string_value(json_object_get(result, "scope"));
    scope = strdup(v ? v : "");
    json_decref(result);
  }
  return scope ? scope : strdup("");
}

int main(int argc, char** argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI CODE CODE_VERIFIER NONCE SCOPE\n", argv[0]);
    return 2;
  }
  const char *issuer = argv[1], *client_id = argv[2], *secret = argv[3], *redirect = argv[4], *code = argv[5],
             *verifier = argv[6], *nonce = argv[7], *scope = argv[8];
  char discovery[1024];
  snprintf(discovery, sizeof discovery, "%s/.well-known/openid-configuration", issuer);

  struct _i_session s;
  i_global_init();
  if (i_init_session(&s) != I_OK) return 2;

  /* Discovery: the library takes every endpoint, the issuer and the JWKS from it. */
  i_set_str_parameter(&s, I_OPT_OPENID_CONFIG_ENDPOINT, discovery);
  int rc = i_get_openid_config(&s);
  check(rc == I_OK, "discovery and JWKS load (rc %d)", rc);
  if (rc != I_OK) return 1;
  const char* token_endpoint = i_get_str_parameter(&s, I_OPT_TOKEN_ENDPOINT);
  check(ends_with(token_endpoint, "/oauth2/token"), "token_endpoint is the standard path: %s", str_or(token_endpoint));

  /* Code exchange as OIDC Core 3.1.3.1 has it: grant_type, code, redirect_uri, code_verifier; no scope. */
  i_set_int_parameter(&s, I_OPT_RESPONSE_TYPE, I_RESPONSE_TYPE_CODE);
  i_set_str_parameter(&s, I_OPT_CLIENT_ID, client_id);
  i_set_str_parameter(&s, I_OPT_CLIENT_SECRET, secret);
  i_set_int_parameter(&s, I_OPT_TOKEN_METHOD, I_TOKEN_AUTH_METHOD_SECRET_BASIC);
  i_set_str_parameter(&s, I_OPT_REDIRECT_URI, redirect);
  i_set_str_parameter(&s, I_OPT_CODE, code);
  i_set_int_parameter(&s, I_OPT_PKCE_METHOD, I_PKCE_METHOD_S256);
  i_set_str_parameter(&s, I_OPT_PKCE_CODE_VERIFIER, verifier);
  i_set_str_parameter(&s, I_OPT_NONCE, nonce);
  i_set_str_parameter(&s, I_OPT_SCOPE, NULL);
  rc = i_run_token_request(&s);
  check(rc == I_OK, "code exchange without scope (rc %d, error %s)", rc, str_or(i_get_str_parameter(&s, I_OPT_ERROR)));
  if (rc != I_OK) return 1;
  check(i_get_str_parameter(&s, I_OPT_ID_TOKEN) != NULL, "an id_token came back");
  check(i_get_str_parameter(&s, I_OPT_REFRESH_TOKEN) != NULL, "a refresh token came back");

  /* OIDC Core 3.1.3.7 by librhonabwy: signature against the JWKS, iss, aud (a string), exp, iat, nonce, at_hash. */
  rc = i_verify_id_token(&s);
  check(rc == I_OK, "id_token verifies (rc %d)", rc);
  const char* first_access = i_get_str_parameter(&s, I_OPT_ACCESS_TOKEN);
  char* access = strdup(str_or(first_access));
  int active = 0;
  char* granted = introspected_scope(&s, access, &active);
  check(active && strcmp(granted, "bolt.account.view openid email") == 0, "the code's whole scope was granted: %s",
        granted);
  free(granted);

  rc = i_get_userinfo(&s, 0);
  const char* info = i_get_str_parameter(&s, I_OPT_USERINFO);
  check(rc == I_OK && info && strstr(info, "\"sub\"") && strstr(info, "\"email\""), "userinfo (rc %d): %s", rc,
        str_or(info));

  /* Refresh re-sending the originally granted scope (what mod_auth_openidc does): a new id_token (OIDC Core 12.2). */
  char* first_refresh = strdup(str_or(i_get_str_parameter(&s, I_OPT_REFRESH_TOKEN)));
  i_set_int_parameter(&s, I_OPT_RESPONSE_TYPE, I_RESPONSE_TYPE_REFRESH_TOKEN);
  i_set_str_parameter(&s, I_OPT_SCOPE, scope);
  i_set_str_parameter(&s, I_OPT_ID_TOKEN, NULL);
  rc = i_run_token_request(&s);
  check(rc == I_OK, "refresh with the original scope '%s' (rc %d, error %s)", scope, rc,
        str_or(i_get_str_parameter(&s, I_OPT_ERROR)));
  check(i_get_str_parameter(&s, I_OPT_ID_TOKEN) != NULL, "the refresh answered a new id_token");
  if (i_get_str_parameter(&s, I_OPT_ID_TOKEN)) check(i_verify_id_token(&s) == I_OK, "the refreshed id_token verifies");
  check(strcmp(str_or(i_get_str_parameter(&s, I_OPT_REFRESH_TOKEN)), first_refresh) != 0, "the refresh token rotated");

  /* Refresh with no scope at all: everything the refresh token carries. */
  i_set_str_parameter(&s, I_OPT_SCOPE, NULL);
  rc = i_run_token_request(&s);
  check(rc == I_OK, "refresh without scope (rc %d, error %s)", rc, str_or(i_get_str_parameter(&s, I_OPT_ERROR)));
  free(access);
  access = strdup(str_or(i_get_str_parameter(&s, I_OPT_ACCESS_TOKEN)));
  granted = introspected_scope(&s, access, &active);
  check(active && strcmp(granted, "bolt.account.view openid email") == 0, "a scope-less refresh gives it all: %s",
        granted);
  free(granted);
  check(i_get_userinfo(&s, 0) == I_OK, "userinfo with the refreshed access token");

  /* The rotated refresh token is dead, and a reused code is invalid_grant that the library can read (400). */
  granted = introspected_scope(&s, first_refresh, &active);
  check(!active, "the first refresh token is no longer active");
  free(granted);

  /* Revocation (RFC 7009) of the live refresh token ends the family. */
  char* live_refresh = strdup(str_or(i_get_str_parameter(&s, I_OPT_REFRESH_TOKEN)));
  i_set_str_parameter(&s, I_OPT_TOKEN_TARGET, live_refresh);
  i_set_str_parameter(&s, I_OPT_TOKEN_TARGET_TYPE_HINT, "refresh_token");
  rc = i_revoke_token(&s, I_INTROSPECT_REVOKE_AUTH_CLIENT_TARGET);
  check(rc == I_OK, "revocation (rc %d)", rc);
  granted = introspected_scope(&s, access, &active);
  check(!active, "the family's access token died with it");
  free(granted);

  i_set_int_parameter(&s, I_OPT_RESPONSE_TYPE, I_RESPONSE_TYPE_CODE);
  i_set_str_parameter(&s, I_OPT_CODE, code);
  i_set_str_parameter(&s, I_OPT_ERROR, NULL);
  rc = i_run_token_request(&s);
  const char* error = i_get_str_parameter(&s, I_OPT_ERROR);
  check(rc == I_ERROR_PARAM && error && strcmp(error, "invalid_grant") == 0,
        "a reused code is invalid_grant (rc %d, error %s)", rc, str_or(error));

  free(first_refresh);
  free(live_refresh);
  free(access);
  i_clean_session(&s);
  i_global_close();
  if (failures) {
    printf("%d check(s) failed\n", failures);
    return 1;
  }
  printf("iddawc flow: every check passed\n");
  return 0;
}
