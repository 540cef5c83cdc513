/* The neutral configuration: validated setters, then one build into the
 * backend's native context. */
#include "internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int anydtls_config_new(anydtls_config **out, anydtls_role role)
{
    if (out == NULL || (role != ANYDTLS_CLIENT && role != ANYDTLS_SERVER))
        return ANYDTLS_E_INVALID_ARG;
    anydtls_config *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return ANYDTLS_E_NOMEM;
    cfg->role = role;
    cfg->verify = ANYDTLS_VERIFY_PEER;
    cfg->timeout_initial_ms = 1000;
    cfg->timeout_max_ms = 60000;
    cfg->mtu = ANYDTLS_MTU_DEFAULT;
    cfg->cookie.len = ANYDTLS_COOKIE_KEY_DEFAULT;
    cfg->cookie_lifetime_s = ANYDTLS_COOKIE_LIFETIME_DEFAULT;
    *out = cfg;
    return ANYDTLS_OK;
}

static void free_string(char **s)
{
    if (*s != NULL) {
        anydtls_wipe(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

void anydtls_config_free(anydtls_config *cfg)
{
    if (cfg == NULL)
        return;
    if (cfg->native != NULL)
        anydtls_backend_driver.config_free(cfg);
    free_string(&cfg->peer_name);
    free_string(&cfg->cert_file);
    free_string(&cfg->key_file);
    free_string(&cfg->ca_file);
    free_string(&cfg->psk_identity);
    anydtls_bytes_clear(&cfg->cert_pem);
    anydtls_bytes_clear(&cfg->key_pem);
    anydtls_bytes_clear(&cfg->ca_pem);
    anydtls_bytes_clear(&cfg->psk_key);
    anydtls_cookie_keys_wipe(&cfg->cookie);
    free(cfg);
}

/* Forget the own certificate and key, whichever way they were given. */
static void clear_own_cert(anydtls_config *cfg)
{
    free_string(&cfg->cert_file);
    free_string(&cfg->key_file);
    anydtls_bytes_clear(&cfg->cert_pem);
    anydtls_bytes_clear(&cfg->key_pem);
}

static int settable(const anydtls_config *cfg)
{
    return cfg != NULL && !cfg->built;
}

static int need_cap(unsigned cap)
{
    return (anydtls_backend_driver.caps & cap) ? ANYDTLS_OK : ANYDTLS_E_UNSUPPORTED;
}

/* PEM in memory reaches the libraries as int / unsigned lengths: bounded
 * far below either. */
static int pem_length_ok(size_t len)
{
    return len >= 1 && len <= ANYDTLS_PEM_MAX;
}

int anydtls_config_set_cert_file(anydtls_config *cfg, const char *chain_path, const char *key_path)
{
    if (!settable(cfg) || chain_path == NULL || key_path == NULL || !*chain_path || !*key_path)
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_CERT);
    char *chain = NULL, *key = NULL;
    if (rc == ANYDTLS_OK)
        rc = anydtls_strdup_into(&chain, chain_path);
    if (rc == ANYDTLS_OK)
        rc = anydtls_strdup_into(&key, key_path);
    if (rc != ANYDTLS_OK)
        goto fail;
    clear_own_cert(cfg);
    cfg->cert_file = chain;
    cfg->key_file = key;
    return ANYDTLS_OK;
fail:
    free_string(&chain);
    free_string(&key);
    return rc;
}

int anydtls_config_set_cert_mem(anydtls_config *cfg, const char *chain_pem, size_t chain_len,
                                const char *key_pem, size_t key_len)
{
    if (!settable(cfg) || chain_pem == NULL || key_pem == NULL || !pem_length_ok(chain_len) ||
        !pem_length_ok(key_len))
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_CERT);
    struct anydtls_bytes chain = {0}, key = {0};
    if (rc == ANYDTLS_OK)
        rc = anydtls_bytes_set(&chain, chain_pem, chain_len);
    if (rc == ANYDTLS_OK)
        rc = anydtls_bytes_set(&key, key_pem, key_len);
    if (rc != ANYDTLS_OK)
        goto fail;
    clear_own_cert(cfg);
    cfg->cert_pem = chain;
    cfg->key_pem = key;
    return ANYDTLS_OK;
fail:
    anydtls_bytes_clear(&chain);
    anydtls_bytes_clear(&key);
    return rc;
}

int anydtls_config_set_ca_file(anydtls_config *cfg, const char *path)
{
    if (!settable(cfg) || path == NULL || !*path)
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_CERT);
    if (rc == ANYDTLS_OK)
        rc = anydtls_strdup_into(&cfg->ca_file, path);
    if (rc == ANYDTLS_OK)
        anydtls_bytes_clear(&cfg->ca_pem);
    return rc;
}

int anydtls_config_set_ca_mem(anydtls_config *cfg, const char *pem, size_t len)
{
    if (!settable(cfg) || pem == NULL || !pem_length_ok(len))
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_CERT);
    if (rc == ANYDTLS_OK)
        rc = anydtls_bytes_set(&cfg->ca_pem, pem, len);
    if (rc == ANYDTLS_OK)
        free_string(&cfg->ca_file);
    return rc;
}

int anydtls_config_set_verify(anydtls_config *cfg, anydtls_verify mode)
{
    if (!settable(cfg) || (mode != ANYDTLS_VERIFY_PEER && mode != ANYDTLS_VERIFY_NONE))
        return ANYDTLS_E_INVALID_ARG;
    cfg->verify = mode;
    return ANYDTLS_OK;
}

int anydtls_config_set_peer_name(anydtls_config *cfg, const char *name)
{
    if (!settable(cfg) || cfg->role != ANYDTLS_CLIENT || name == NULL || !*name ||
        strlen(name) > 253)
        return ANYDTLS_E_INVALID_ARG;
    int rc = anydtls_strdup_into(&cfg->peer_name, name);
    if (rc != ANYDTLS_OK)
        return rc;
    unsigned char ip[16];
    if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1)
        cfg->peer_kind = ANYDTLS_PEER_IP;
    else if (anydtls_sni_host_name((const uint8_t *)name, strlen(name)))
        cfg->peer_kind = ANYDTLS_PEER_HOST;
    else
        cfg->peer_kind = ANYDTLS_PEER_OTHER;
    return ANYDTLS_OK;
}

static int identity_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    return n >= 1 && n <= ANYDTLS_PSK_IDENTITY_MAX;
}

int anydtls_config_set_psk(anydtls_config *cfg, const char *identity, const uint8_t *key,
                           size_t key_len)
{
    if (!settable(cfg) || cfg->role != ANYDTLS_CLIENT || !identity_ok(identity) ||
        key == NULL || key_len == 0 || key_len > ANYDTLS_PSK_MAX)
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_PSK);
    struct anydtls_bytes k = {0};
    if (rc == ANYDTLS_OK)
        rc = anydtls_bytes_set(&k, key, key_len);
    if (rc == ANYDTLS_OK)
        rc = anydtls_strdup_into(&cfg->psk_identity, identity);
    if (rc != ANYDTLS_OK) {
        anydtls_bytes_clear(&k);
        return rc;
    }
    anydtls_bytes_clear(&cfg->psk_key);
    cfg->psk_key = k;
    return ANYDTLS_OK;
}

int anydtls_config_set_psk_server(anydtls_config *cfg, const char *hint,
                                  anydtls_psk_lookup_fn lookup, void *user)
{
    if (!settable(cfg) || cfg->role != ANYDTLS_SERVER || lookup == NULL ||
        (hint != NULL && !identity_ok(hint)))
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_PSK);
    if (rc == ANYDTLS_OK && hint != NULL)
        rc = anydtls_strdup_into(&cfg->psk_identity, hint);
    else if (rc == ANYDTLS_OK)
        free_string(&cfg->psk_identity);
    if (rc != ANYDTLS_OK)
        return rc;
    cfg->psk_lookup = lookup;
    cfg->psk_user = user;
    return ANYDTLS_OK;
}

int anydtls_config_set_timeouts(anydtls_config *cfg, uint32_t initial_ms, uint32_t max_ms)
{
    if (!settable(cfg) || initial_ms < 10 || initial_ms > max_ms || max_ms > 600000)
        return ANYDTLS_E_INVALID_ARG;
    cfg->timeout_initial_ms = initial_ms;
    cfg->timeout_max_ms = max_ms;
    return ANYDTLS_OK;
}

int anydtls_config_set_mtu(anydtls_config *cfg, unsigned mtu)
{
    if (!settable(cfg) || mtu < ANYDTLS_MTU_MIN || mtu > ANYDTLS_MTU_MAX)
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_MTU);
    if (rc == ANYDTLS_OK)
        cfg->mtu = mtu;
    return rc;
}

int anydtls_config_set_cookie_key_length(anydtls_config *cfg, size_t len)
{
    if (!settable(cfg) || cfg->role != ANYDTLS_SERVER || len < ANYDTLS_COOKIE_KEY_MIN ||
        len > ANYDTLS_COOKIE_KEY_MAX)
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_COOKIE);
    if (rc == ANYDTLS_OK)
        cfg->cookie.len = len;
    return rc;
}

int anydtls_config_set_cookie_lifetime(anydtls_config *cfg, unsigned seconds)
{
    if (!settable(cfg) || cfg->role != ANYDTLS_SERVER || seconds < ANYDTLS_COOKIE_LIFETIME_MIN ||
        seconds > ANYDTLS_COOKIE_LIFETIME_MAX)
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_COOKIE);
    if (rc == ANYDTLS_OK)
        cfg->cookie_lifetime_s = seconds;
    return rc;
}

int anydtls_config_set_resumption(anydtls_config *cfg, int enable)
{
    if (!settable(cfg) || (enable != 0 && enable != 1))
        return ANYDTLS_E_INVALID_ARG;
    int rc = need_cap(ANYDTLS_CAP_RESUMPTION);
    if (rc == ANYDTLS_OK)
        cfg->resumption = enable == 1;
    return rc;
}

int anydtls_config_build(anydtls_config *cfg)
{
    if (cfg == NULL)
        return ANYDTLS_E_INVALID_ARG;
    if (cfg->built)
        return ANYDTLS_OK;
    cfg->error[0] = '\0';
    int rc = ANYDTLS_OK;
    if (cfg->role == ANYDTLS_SERVER) {
        rc = anydtls_cookie_keys_init(&cfg->cookie, cfg->cookie.len);
        if (rc != ANYDTLS_OK) {
            anydtls_set_detail(cfg->error, sizeof cfg->error, "cannot generate cookie key");
            return rc;
        }
    }
    rc = anydtls_backend_driver.config_build(cfg);
    if (rc != ANYDTLS_OK) {
        size_t len = cfg->cookie.len;
        anydtls_cookie_keys_wipe(&cfg->cookie);
        cfg->cookie.len = len;
        return rc;
    }
    cfg->built = true;
    return ANYDTLS_OK;
}

const char *anydtls_config_error(const anydtls_config *cfg)
{
    return cfg != NULL ? cfg->error : "";
}
