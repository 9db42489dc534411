/* xmppfed C ABI test: drives every exported function, its success paths and its error paths.
 *
 * Build and run with tests/c/run.sh (gcc -std=c11 -pedantic, under valgrind), or for Windows with
 * tests/c/run.sh --windows (mingw, under Wine). Everything happens in fresh mkdtemp folders that
 * are removed at the end. The last line printed is always
 * "N passed, M failed"; the exit status is non-zero when M > 0. */

#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifndef _WIN32
#include <pwd.h>
#include <sys/file.h>
#endif

#include "xmppfed.h"

#ifdef _WIN32
/* Windows (mingw-w64): small equivalents of the POSIX calls this test uses. */
#include <direct.h>
#include <windows.h>

#define mkdir(path, mode) _mkdir(path)

/* The library reads the process environment (GetEnvironmentVariableW), not the C runtime's copy. */
static int setenv(const char *name, const char *value, int overwrite) {
    (void)overwrite;
    return SetEnvironmentVariableA(name, value) ? 0 : -1;
}

static int unsetenv(const char *name) {
    return SetEnvironmentVariableA(name, NULL) ? 0 : -1;
}

static char *mkdtemp(char *template) {
    size_t n = strlen(template);
    if (n < 6 || strcmp(template + n - 6, "XXXXXX") != 0) { errno = EINVAL; return NULL; }
    srand((unsigned)GetTickCount() ^ ((unsigned)GetCurrentProcessId() << 16));
    for (int attempt = 0; attempt < 100; attempt++) {
        for (int i = 0; i < 6; i++) template[n - 6 + i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rand() % 36];
        if (_mkdir(template) == 0) return template;
        if (errno != EEXIST) return NULL;
    }
    return NULL;
}

static char *realpath(const char *path, char *resolved) {
    return _fullpath(resolved, path, PATH_MAX);
}
#endif

/* ------------------------------------------------------------------------------------------ */
/* Assertions                                                                                  */
/* ------------------------------------------------------------------------------------------ */

static int g_passed;
static int g_failed;

static const char *last_error_or_null(void) {
    const char *m = xmppfed_last_error_message();
    return m ? m : "(null)";
}

static int check_impl(int ok, const char *expr, const char *file, int line) {
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        fprintf(stderr, "%s:%d: CHECK failed: %s\n    last error: %s\n", file, line, expr, last_error_or_null());
    }
    return ok;
}

#define CHECK(cond) check_impl(!!(cond), #cond, __FILE__, __LINE__)

static const char *rc_name(int rc) {
    const char *n = xmppfed_result_name(rc);
    return n ? n : "(unknown code)";
}

static xmppfed_result check_rc_impl(xmppfed_result got, xmppfed_result want, const char *expr, const char *file, int line) {
    if (got == want) {
        g_passed++;
    } else {
        g_failed++;
        fprintf(stderr, "%s:%d: %s\n    expected %s (%d), got %s (%d)\n    last error: %s\n", file, line, expr,
                rc_name((int)want), (int)want, rc_name((int)got), (int)got, last_error_or_null());
    }
    return got;
}

#define CHECK_RC(call, want) check_rc_impl((call), (want), #call, __FILE__, __LINE__)

/* Whether `json` contains `needle` (or not, with `negate`), printing the document on failure. */
static void check_has_impl(const char *json, const char *needle, int negate, const char *file, int line) {
    int found = json != NULL && strstr(json, needle) != NULL;
    if (found != !negate || json == NULL) {
        g_failed++;
        fprintf(stderr, "%s:%d: expected text %s %s\n    in: %s\n    last error: %s\n", file, line,
                negate ? "NOT to contain" : "to contain", needle, json ? json : "(null)", last_error_or_null());
    } else {
        g_passed++;
    }
}

#define CHECK_HAS(json, needle) check_has_impl((json), (needle), 0, __FILE__, __LINE__)
#define CHECK_LACKS(json, needle) check_has_impl((json), (needle), 1, __FILE__, __LINE__)
/* The message of the last failure mentions `needle`. */
#define CHECK_MSG(needle) check_has_impl(xmppfed_last_error_message(), (needle), 0, __FILE__, __LINE__)

/* A real address that the library can never return: out-pointers are preset to it before a call
 * that must fail, and must still hold it afterwards. */
static char g_sentinel_byte;
#define SENTINEL (&g_sentinel_byte)
#define STORE_SENTINEL ((xmppfed_store *)(void *)&g_sentinel_byte)

/* A call that must succeed, writing a fresh string to `out` and clearing the last error. */
#define EXPECT_OK(out, call)                                                                    \
    do {                                                                                        \
        (out) = SENTINEL;                                                                       \
        if (CHECK_RC(call, XMPPFED_RESULT_OK) != XMPPFED_RESULT_OK) (out) = NULL;               \
        CHECK((out) != NULL && (out) != SENTINEL);                                              \
        if ((out) == SENTINEL) (out) = NULL;                                                    \
        CHECK(xmppfed_last_error_message() == NULL);                                            \
    } while (0)

/* A call that must fail with `code`, leave `out` untouched and set a last error message. */
#define EXPECT_FAIL(code, out, call)                                                            \
    do {                                                                                        \
        (out) = SENTINEL;                                                                       \
        if (CHECK_RC(call, code) == XMPPFED_RESULT_OK && (out) != SENTINEL) {                   \
            xmppfed_string_free(out);                                                           \
        }                                                                                       \
        CHECK((out) == SENTINEL);                                                               \
        CHECK(xmppfed_last_error_message() != NULL);                                            \
    } while (0)

/* Same for functions whose output is not a string. */
#define EXPECT_FAIL_NOOUT(code, call)                                                           \
    do {                                                                                        \
        CHECK_RC(call, code);                                                                   \
        CHECK(xmppfed_last_error_message() != NULL);                                            \
    } while (0)

/* Free a library string and forget it. */
#define FREE(s)                                                                                 \
    do {                                                                                        \
        if ((s) != SENTINEL) xmppfed_string_free(s);                                            \
        (s) = NULL;                                                                             \
    } while (0)

/* ------------------------------------------------------------------------------------------ */
/* Small helpers (no JSON library needed)                                                      */
/* ------------------------------------------------------------------------------------------ */

#define BUCHER "b\xc3\xbc" "cher.example"          /* bücher.example, the canonical U-label form */
#define BUCHER_UPPER "B\xc3\x9c" "CHER.example"    /* BÜCHER.example */
#define BUCHER_ALABEL "xn--bcher-kva.example"
#define BAD_UTF8 "\xff\xfe"

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) { perror("malloc"); exit(2); }
    memcpy(d, s, n);
    return d;
}

static char *xasprintf(const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *d = malloc((size_t)n + 1);
    if (!d) { perror("malloc"); exit(2); }
    vsnprintf(d, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return d;
}

/* A malloc'd copy of `src` with the first `from` replaced by `to` (NULL if `from` is absent). */
static char *replace_once(const char *src, const char *from, const char *to) {
    if (!src) return NULL;
    const char *at = strstr(src, from);
    if (!at) return NULL;
    size_t head = (size_t)(at - src), fl = strlen(from), tl = strlen(to), tail = strlen(at + fl);
    char *d = malloc(head + tl + tail + 1);
    if (!d) { perror("malloc"); exit(2); }
    memcpy(d, src, head);
    memcpy(d + head, to, tl);
    memcpy(d + head + tl, at + fl, tail + 1);
    return d;
}

/* The "Partner" object of an outcome {"Partner":{...},"Warnings":[...]}, malloc'd. */
static char *outcome_partner(const char *outcome) {
    static const char prefix[] = "{\"Partner\":";
    if (!outcome || strncmp(outcome, prefix, strlen(prefix)) != 0) return NULL;
    const char *start = outcome + strlen(prefix);
    const char *end = strstr(start, ",\"Warnings\":");
    if (!end) return NULL;
    char *d = malloc((size_t)(end - start) + 1);
    if (!d) { perror("malloc"); exit(2); }
    memcpy(d, start, (size_t)(end - start));
    d[end - start] = '\0';
    return d;
}

/* The number after "Revision": (the first one), or -1. */
static long long revision_of(const char *json) {
    const char *at = json ? strstr(json, "\"Revision\":") : NULL;
    return at ? strtoll(at + strlen("\"Revision\":"), NULL, 10) : -1;
}

static int count_of(const char *json, const char *needle) {
    int n = 0;
    for (const char *p = json; p && (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

/* Whether the identities appear in the list in exactly this order (and each one appears). */
static int in_order(const char *json, const char *const *ids, size_t count) {
    const char *pos = json;
    for (size_t i = 0; i < count; i++) {
        char *needle = xasprintf("\"Identity\":\"%s\"", ids[i]);
        const char *at = pos ? strstr(pos, needle) : NULL;
        free(needle);
        if (!at) return 0;
        pos = at + 1;
    }
    return 1;
}

/* A path as a JSON string's contents: backslashes (Windows' separator) and quotes escaped. */
static char *json_path(const char *path) {
    char *out = malloc(2 * strlen(path) + 1), *o = out;
    if (!out) abort();
    for (const char *p = path; *p; p++) {
        if (*p == '\\' || *p == '"') *o++ = '\\';
        *o++ = *p;
    }
    *o = '\0';
    return out;
}

/* CRC-32 (IEEE 802.3, reflected, as zlib and crc32fast compute it), bit by bit. */
static uint32_t crc32_ieee(const void *data, size_t len) {
    const unsigned char *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

static char *make_dir(const char *parent, const char *name) {
    char *path = xasprintf("%s/%s", parent, name);
    if (mkdir(path, 0700) != 0) { perror(path); exit(2); }
    return path;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)ftw;
    /* rmdir for folders: Windows' remove() deletes files only. */
    if ((flag == FTW_DP ? rmdir(path) : remove(path)) != 0) perror(path);
    return 0;
}

static void remove_tree(const char *path) {
    if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) perror(path);
}

/* A store folder holding one version-1 log (partners.log, still read) with the given bytes. */
static char *central_with_log(const char *root, const char *name, const char *raw) {
    char *dir = make_dir(root, name);
    char *log = xasprintf("%s/partners.log", dir);
    FILE *f = fopen(log, "wb");
    if (!f) { perror(log); exit(2); }
    fputs(raw, f);
    fclose(f);
    free(log);
    return dir;
}

static const char HEADER_V1[] = "{\"Format\":\"xmppfed-log\",\"Version\":1,\"Generation\":\"c-test\",\"Seq\":1}";
static const char HEADER_V99[] = "{\"Format\":\"xmppfed-log\",\"Version\":99,\"Generation\":\"c-test\",\"Seq\":0}";
static const char HEADER_OTHER[] = "{\"Format\":\"another-log\",\"Version\":1,\"Generation\":\"c-test\",\"Seq\":0}";
static const char CRAFTED_RECORD[] =
    "{\"Seq\":1,\"Put\":{\"Identity\":\"crafted.org\",\"Domain\":\"crafted.org\",\"AdditionalDomains\":[],"
    "\"Description\":\"written by C\",\"ProxyFqdn\":\"\",\"PartnerType\":\"Federated\",\"TlsNegotiation\":\"Required\","
    "\"SaslNegotiation\":\"Required\",\"SupportDialbackNegotiation\":true,\"EnableKeepAlive\":true,"
    "\"ConnectionLimit\":20,\"Revision\":1}}";

static char *framed(const char *json, int corrupt) {
    uint32_t crc = crc32_ieee(json, strlen(json));
    if (corrupt) crc ^= 1u;
    return xasprintf("%08x %s\n", (unsigned)crc, json);
}

/* The current generation file (partners.<n>.log with the highest n) of a store folder. */
static char *current_log(const char *dir) {
    DIR *d = opendir(dir);
    unsigned long best = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            unsigned long n = 0;
            char tail[8] = "";
            if (sscanf(e->d_name, "partners.%lu%7s", &n, tail) == 2 && strcmp(tail, ".log") == 0 && n > best) best = n;
        }
        closedir(d);
    }
    return xasprintf("%s/partners.%lu.log", dir, best ? best : 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Binary partner records (xmppfed_partner_list_pages' pages), decoded with bounds checks     */
/* ------------------------------------------------------------------------------------------ */

/* The smallest record: u64, u32, 4 x u8, four empty texts (u32 each), u32 n = 0. */
#define RECORD_MIN_BYTES 36u

/* What an empty list is: the format, then a zero count. */
static const uint8_t EMPTY_RECORDS[8] = {1, 0, 0, 0, 0, 0, 0, 0};

/* A text of a record: `len` bytes of UTF-8 inside the records buffer, without a NUL. */
struct rtext {
    const uint8_t *bytes;
    uint32_t len;
};

struct record {
    uint64_t revision;
    uint32_t connection_limit;
    uint8_t partner_type, tls, sasl, flags;
    struct rtext identity, domain, description, proxy_fqdn;
    uint32_t n_additional;
    struct rtext *additional; /* malloc'd, n_additional of them (NULL for none) */
};

struct records {
    uint32_t format, count;
    struct record *items; /* malloc'd, `count` of them */
};

/* A cursor over a buffer that never reads past its end: the first problem sticks. */
struct reader {
    const uint8_t *p;
    size_t len, at;
    const char *error;
};

static const uint8_t *take(struct reader *r, size_t n) {
    if (r->error) return NULL;
    if (n > r->len - r->at) {
        r->error = "a field runs past the end of the buffer";
        return NULL;
    }
    const uint8_t *b = r->p + r->at;
    r->at += n;
    return b;
}

static uint8_t take_u8(struct reader *r) {
    const uint8_t *b = take(r, 1);
    return b ? b[0] : 0;
}

static uint32_t take_u32(struct reader *r) {
    const uint8_t *b = take(r, 4);
    return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
}

static uint64_t take_u64(struct reader *r) {
    uint64_t low = take_u32(r);
    uint64_t high = take_u32(r);
    return low | high << 32;
}

/* Whether `s` is well-formed UTF-8 without a NUL: no overlong forms, surrogates or code points
 * above U+10FFFF. */
static int utf8_ok(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t more;
        uint32_t cp, least;
        if (c == 0) return 0;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) { more = 1; cp = c & 0x1Fu; least = 0x80; }
        else if ((c & 0xF0) == 0xE0) { more = 2; cp = c & 0x0Fu; least = 0x800; }
        else if ((c & 0xF8) == 0xF0) { more = 3; cp = c & 0x07u; least = 0x10000; }
        else return 0;
        if (more > n - i - 1) return 0;
        for (size_t j = 1; j <= more; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3Fu);
        }
        if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += more + 1;
    }
    return 1;
}

static struct rtext take_text(struct reader *r) {
    struct rtext t = {NULL, 0};
    uint32_t len = take_u32(r);
    const uint8_t *b = take(r, len);
    if (!b) return t;
    if (!utf8_ok(b, len)) {
        r->error = "a text is not UTF-8 or holds a NUL";
        return t;
    }
    t.bytes = b;
    t.len = len;
    return t;
}

static void free_records(struct records *rs) {
    for (uint32_t i = 0; rs->items && i < rs->count; i++) free(rs->items[i].additional);
    free(rs->items);
    rs->items = NULL;
    rs->count = 0;
}

/* Decode a whole records buffer into `out` (release it with free_records, after a failure too).
 * Returns NULL, or what is wrong: a short or overlong buffer, another format, an enum code or a
 * flag outside the layout, a text that is not UTF-8. */
static const char *decode_records(const uint8_t *buf, size_t len, struct records *out) {
    memset(out, 0, sizeof *out);
    if (!buf) return "no buffer";
    struct reader r = {buf, len, 0, NULL};
    out->format = take_u32(&r);
    uint32_t count = take_u32(&r);
    if (r.error) return r.error;
    if (out->format != XMPPFED_RECORDS_FORMAT) return "the format is not XMPPFED_RECORDS_FORMAT";
    /* A count no buffer of this length can hold is refused before anything is allocated. */
    if (count > (len - r.at) / RECORD_MIN_BYTES) return "the count is larger than the buffer can hold";
    out->items = calloc(count ? count : 1, sizeof *out->items);
    if (!out->items) { perror("calloc"); exit(2); }
    for (uint32_t i = 0; i < count; i++) {
        struct record *rec = &out->items[i];
        out->count = i + 1;
        rec->revision = take_u64(&r);
        rec->connection_limit = take_u32(&r);
        rec->partner_type = take_u8(&r);
        rec->tls = take_u8(&r);
        rec->sasl = take_u8(&r);
        rec->flags = take_u8(&r);
        rec->identity = take_text(&r);
        rec->domain = take_text(&r);
        rec->description = take_text(&r);
        rec->proxy_fqdn = take_text(&r);
        rec->n_additional = take_u32(&r);
        if (r.error) return r.error;
        if (rec->partner_type > 2 || rec->tls > 2 || rec->sasl > 2) return "an enum code is not 0, 1 or 2";
        if (rec->flags & ~3u) return "a flag bit other than bits 0 and 1 is set";
        if (rec->n_additional > (len - r.at) / 4) return "more additional domains than the buffer can hold";
        if (rec->n_additional) {
            rec->additional = calloc(rec->n_additional, sizeof *rec->additional);
            if (!rec->additional) { perror("calloc"); exit(2); }
        }
        for (uint32_t k = 0; k < rec->n_additional; k++) rec->additional[k] = take_text(&r);
        if (r.error) return r.error;
    }
    if (r.at != len) return "bytes follow the last record";
    return NULL;
}

/* A growing NUL-terminated string. */
struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_put(struct sbuf *b, const void *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { perror("realloc"); exit(2); }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s) {
    sb_put(b, s, strlen(s));
}

/* A text as serde_json writes it: '"', '\\' and controls escaped, everything else as it is. */
static void sb_json_text(struct sbuf *b, struct rtext t) {
    sb_str(b, "\"");
    for (uint32_t i = 0; i < t.len; i++) {
        uint8_t c = t.bytes[i];
        char esc[8];
        switch (c) {
        case '"': sb_str(b, "\\\""); break;
        case '\\': sb_str(b, "\\\\"); break;
        case '\n': sb_str(b, "\\n"); break;
        case '\r': sb_str(b, "\\r"); break;
        case '\t': sb_str(b, "\\t"); break;
        case '\b': sb_str(b, "\\b"); break;
        case '\f': sb_str(b, "\\f"); break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
                sb_str(b, esc);
            } else {
                sb_put(b, &c, 1);
            }
        }
    }
    sb_str(b, "\"");
}

static const char *const PARTNER_TYPE_NAMES[] = {"Federated", "PublicVerified", "PublicUnverified"};
static const char *const NEGOTIATION_NAMES[] = {"Required", "Optional", "NotSupported"};

/* Decoded records written as xmppfed_partner_list writes its JSON array (malloc'd). */
static char *records_as_json(const struct records *rs) {
    struct sbuf b = {NULL, 0, 0};
    char number[48];
    sb_str(&b, "[");
    for (uint32_t i = 0; i < rs->count; i++) {
        const struct record *rec = &rs->items[i];
        sb_str(&b, i ? ",{\"Identity\":" : "{\"Identity\":");
        sb_json_text(&b, rec->identity);
        sb_str(&b, ",\"Domain\":");
        sb_json_text(&b, rec->domain);
        sb_str(&b, ",\"AdditionalDomains\":[");
        for (uint32_t k = 0; k < rec->n_additional; k++) {
            if (k) sb_str(&b, ",");
            sb_json_text(&b, rec->additional[k]);
        }
        sb_str(&b, "],\"Description\":");
        sb_json_text(&b, rec->description);
        sb_str(&b, ",\"ProxyFqdn\":");
        sb_json_text(&b, rec->proxy_fqdn);
        sb_str(&b, ",\"PartnerType\":\"");
        sb_str(&b, rec->partner_type <= 2 ? PARTNER_TYPE_NAMES[rec->partner_type] : "?");
        sb_str(&b, "\",\"TlsNegotiation\":\"");
        sb_str(&b, rec->tls <= 2 ? NEGOTIATION_NAMES[rec->tls] : "?");
        sb_str(&b, "\",\"SaslNegotiation\":\"");
        sb_str(&b, rec->sasl <= 2 ? NEGOTIATION_NAMES[rec->sasl] : "?");
        sb_str(&b, "\",\"SupportDialbackNegotiation\":");
        sb_str(&b, rec->flags & 1u ? "true" : "false");
        sb_str(&b, ",\"EnableKeepAlive\":");
        sb_str(&b, rec->flags & 2u ? "true" : "false");
        snprintf(number, sizeof number, ",\"ConnectionLimit\":%lu", (unsigned long)rec->connection_limit);
        sb_str(&b, number);
        snprintf(number, sizeof number, ",\"Revision\":%llu}", (unsigned long long)rec->revision);
        sb_str(&b, number);
    }
    sb_str(&b, "]");
    return b.p;
}

/* Whether a record's text is exactly `s`. */
static int text_is(struct rtext t, const char *s) {
    size_t n = strlen(s);
    return t.len == n && (n == 0 || (t.bytes && memcmp(t.bytes, s, n) == 0));
}

#define RECORDS_UNSET ((uint8_t *)(void *)SENTINEL)

/* A records call that must succeed: a fresh buffer of at least 8 bytes, no last error. */
#define EXPECT_RECORDS_OK(buf, len, call)                                                       \
    do {                                                                                        \
        (buf) = RECORDS_UNSET;                                                                  \
        (len) = 12345;                                                                          \
        if (CHECK_RC(call, XMPPFED_RESULT_OK) != XMPPFED_RESULT_OK) {                           \
            (buf) = NULL;                                                                       \
            (len) = 0;                                                                          \
        }                                                                                       \
        CHECK((buf) != NULL && (buf) != RECORDS_UNSET && (len) >= 8);                           \
        if ((buf) == RECORDS_UNSET) {                                                           \
            (buf) = NULL;                                                                       \
            (len) = 0;                                                                          \
        }                                                                                       \
        CHECK(xmppfed_last_error_message() == NULL);                                            \
    } while (0)

/* A records call that must fail with `code`, leaving the buffer and its length untouched (as
 * every output: written only on success) and setting a last error message. */
#define EXPECT_RECORDS_FAIL(code, buf, len, call)                                               \
    do {                                                                                        \
        (buf) = RECORDS_UNSET;                                                                  \
        (len) = 12345;                                                                          \
        if (CHECK_RC(call, code) == XMPPFED_RESULT_OK && (buf) != RECORDS_UNSET) {              \
            xmppfed_bytes_free((buf), (len));                                                   \
        }                                                                                       \
        CHECK((buf) == RECORDS_UNSET && (len) == 12345);                                        \
        CHECK(xmppfed_last_error_message() != NULL);                                            \
    } while (0)

/* Free a records buffer and forget it. */
#define FREE_RECORDS(buf, len)                                                                  \
    do {                                                                                        \
        if ((buf) != RECORDS_UNSET) xmppfed_bytes_free((buf), (len));                           \
        (buf) = NULL;                                                                           \
        (len) = 0;                                                                              \
    } while (0)

/* How many bytes a decoded record took in its buffer (RECORD_MIN_BYTES and its texts). */
static size_t record_bytes(const struct record *r) {
    size_t n = RECORD_MIN_BYTES + r->identity.len + r->domain.len + r->description.len + r->proxy_fqdn.len;
    for (uint32_t k = 0; k < r->n_additional; k++) n += 4 + r->additional[k].len;
    return n;
}

/* The size a page reaches before it ends (64 KiB): a page ends with the record that takes it to
 * at least this many bytes, so every page but the last is at least this long. */
#define PAGE_BYTES 65536u

#define PAGES_UNSET ((xmppfed_partner_pages *)(void *)SENTINEL)
#define PAGE_UNSET ((const uint8_t *)(void *)SENTINEL)

/* A list_pages call that must succeed: fresh pages, no last error. */
#define EXPECT_PAGES_OK(pages, count, call)                                                     \
    do {                                                                                        \
        (pages) = PAGES_UNSET;                                                                  \
        (count) = 12345;                                                                        \
        if (CHECK_RC(call, XMPPFED_RESULT_OK) != XMPPFED_RESULT_OK) (pages) = NULL;             \
        CHECK((pages) != NULL && (pages) != PAGES_UNSET);                                       \
        if ((pages) == PAGES_UNSET) (pages) = NULL;                                             \
        CHECK(xmppfed_last_error_message() == NULL);                                            \
    } while (0)

/* A list_pages call that must fail with `code`, leaving the pages and the count untouched (as
 * every output: written only on success) and setting a last error message. */
#define EXPECT_PAGES_FAIL(code, pages, count, call)                                             \
    do {                                                                                        \
        (pages) = PAGES_UNSET;                                                                  \
        (count) = 12345;                                                                        \
        if (CHECK_RC(call, code) == XMPPFED_RESULT_OK && (pages) != PAGES_UNSET) {              \
            xmppfed_partner_pages_free(pages);                                                  \
        }                                                                                       \
        CHECK((pages) == PAGES_UNSET && (count) == 12345);                                      \
        CHECK(xmppfed_last_error_message() != NULL);                                            \
    } while (0)

/* Free pages and forget them. */
#define FREE_PAGES(pages)                                                                       \
    do {                                                                                        \
        if ((pages) != PAGES_UNSET) xmppfed_partner_pages_free(pages);                          \
        (pages) = NULL;                                                                         \
    } while (0)

/* What reading pages gave: their records joined into one records buffer (the format, the count
 * of every page read, their records one after the other: what one buffer of the whole list would
 * be, for decode_records and records_as_json), the first page as it was handed out, and how the
 * list was cut into pages. Start from {0}; release with free_paged. */
struct paged {
    uint8_t *buf; /* malloc'd */
    size_t len;
    uint8_t *first; /* malloc'd copy of the first page */
    size_t first_len;
    size_t pages;   /* pages read */
    uint32_t count; /* partners in them */
    struct page_cut {
        size_t len;
        uint32_t count;
    } *cuts; /* malloc'd, one per page read */
};

static void free_paged(struct paged *pg) {
    free(pg->buf);
    free(pg->first);
    free(pg->cuts);
    memset(pg, 0, sizeof *pg);
}

static void paged_add(struct paged *pg, const uint8_t *page, size_t len, uint32_t count) {
    if (!pg->buf) {
        pg->buf = malloc(sizeof EMPTY_RECORDS);
        if (!pg->buf) { perror("malloc"); exit(2); }
        memcpy(pg->buf, EMPTY_RECORDS, sizeof EMPTY_RECORDS);
        pg->len = sizeof EMPTY_RECORDS;
    }
    if (len < 8) return;
    if (pg->pages == 0) {
        pg->first = malloc(len);
        if (!pg->first) { perror("malloc"); exit(2); }
        memcpy(pg->first, page, len);
        pg->first_len = len;
    }
    uint8_t *buf = realloc(pg->buf, pg->len + len - 8);
    struct page_cut *cuts = realloc(pg->cuts, (pg->pages + 1) * sizeof *cuts);
    if (!buf || !cuts) { perror("realloc"); exit(2); }
    pg->buf = buf;
    pg->cuts = cuts;
    memcpy(pg->buf + pg->len, page + 8, len - 8);
    pg->len += len - 8;
    pg->cuts[pg->pages].len = len;
    pg->cuts[pg->pages].count = count;
    pg->pages++;
    pg->count += count;
    for (int k = 0; k < 4; k++) pg->buf[4 + k] = (uint8_t)(pg->count >> (8 * k));
}

/* Reads the next pages of `pages` into `pg` (fresh, or holding the pages read from them before),
 * at most `max_pages` of them (SIZE_MAX: to the end); `count` is what xmppfed_partner_list_pages
 * gave. Each page is copied before the next call (it is valid until then only), and must be a
 * records document of its own (it decodes alone, as a get's records do) holding at least one
 * partner; every page but the last reaches PAGE_BYTES, and each ends with the record that
 * reaches it; at the end the page is NULL and its length 0, again on another call, and the
 * pages' counts add up to `count`. Returns whether the end was reached. */
static int read_pages_impl(xmppfed_partner_pages *pages, size_t count, struct paged *pg, size_t max_pages, const char *file, int line) {
    paged_add(pg, NULL, 0, 0);
    for (size_t taken = 0; taken < max_pages; taken++) {
        const uint8_t *page = PAGE_UNSET;
        size_t len = 12345;
        if (check_rc_impl(xmppfed_partner_pages_next(pages, &page, &len), XMPPFED_RESULT_OK, "xmppfed_partner_pages_next", file, line)
            != XMPPFED_RESULT_OK) {
            return 0;
        }
        check_impl(xmppfed_last_error_message() == NULL, "no last error after xmppfed_partner_pages_next", file, line);
        if (!check_impl(page != PAGE_UNSET, "xmppfed_partner_pages_next set the page", file, line)) return 0;
        if (page == NULL) {
            check_impl(len == 0, "after the last page: NULL and a length of 0", file, line);
            /* The end stays the end. */
            page = PAGE_UNSET;
            len = 12345;
            check_rc_impl(xmppfed_partner_pages_next(pages, &page, &len), XMPPFED_RESULT_OK, "xmppfed_partner_pages_next after the end", file, line);
            check_impl(page == NULL && len == 0, "after the end, NULL and 0 again", file, line);
            if (!check_impl(pg->count == count, "the pages' counts add up to the list's count", file, line)) {
                fprintf(stderr, "    pages hold %lu partners, the list said %lu\n", (unsigned long)pg->count, (unsigned long)count);
            }
            return 1;
        }
        /* Each page holds a partner at least: never more pages than partners. */
        if (!check_impl(pg->count < count, "a page after every partner was read", file, line)) return 0;
        if (pg->pages > 0 && !check_impl(pg->cuts[pg->pages - 1].len >= PAGE_BYTES, "a page followed by another reaches PAGE_BYTES", file, line)) {
            fprintf(stderr, "    page %lu: %lu bytes\n", (unsigned long)pg->pages, (unsigned long)pg->cuts[pg->pages - 1].len);
        }
        struct records rs;
        const char *problem = decode_records(page, len, &rs);
        if (!check_impl(problem == NULL, "a page decodes on its own", file, line)) {
            fprintf(stderr, "    %s (page %lu, %lu bytes)\n", problem, (unsigned long)pg->pages + 1, (unsigned long)len);
            free_records(&rs);
            return 0;
        }
        check_impl(rs.count >= 1, "a page holds at least one partner", file, line);
        if (rs.count >= 1 && !check_impl(len - record_bytes(&rs.items[rs.count - 1]) < PAGE_BYTES, "a page ends with the record that reaches PAGE_BYTES", file, line)) {
            fprintf(stderr, "    page %lu: %lu bytes, its last record %lu\n", (unsigned long)pg->pages + 1, (unsigned long)len,
                    (unsigned long)record_bytes(&rs.items[rs.count - 1]));
        }
        paged_add(pg, page, len, rs.count);
        free_records(&rs);
    }
    return 0;
}

#define READ_PAGES(pages, count, pg, max_pages) read_pages_impl((pages), (count), (pg), (max_pages), __FILE__, __LINE__)

/* The records of the pages read, written as xmppfed_partner_list writes its JSON array
 * (malloc'd), or NULL if they do not decode (saying why). */
static char *paged_as_json(const struct paged *pg) {
    struct records rs;
    const char *problem = decode_records(pg->buf, pg->len, &rs);
    char *json = problem ? NULL : records_as_json(&rs);
    if (problem) fprintf(stderr, "    the pages' records: %s (%lu bytes)\n", problem, (unsigned long)pg->len);
    free_records(&rs);
    return json;
}

/* xmppfed_partner_list_pages answers exactly as xmppfed_partner_list does for the same
 * arguments: the same result code; on success pages that read as READ_PAGES checks, and whose
 * records, joined and written back as the library writes JSON, equal the JSON list byte for byte
 * (the same partners, order and values); on failure the same message, and the out pointers
 * untouched. Returns the number of records, or -1 (a failure, the expected one or not). */
static long check_pages_like_list_impl(xmppfed_store *st, const char *filter, bool local, const char *file, int line) {
    char *json = SENTINEL;
    xmppfed_result list_rc = xmppfed_partner_list(st, filter, local, &json);
    const char *m = xmppfed_last_error_message();
    char *list_message = m ? xstrdup(m) : NULL;
    xmppfed_partner_pages *pages = PAGES_UNSET;
    size_t count = 12345;
    xmppfed_result pages_rc = xmppfed_partner_list_pages(st, filter, local, &pages, &count);
    long listed = -1;
    check_rc_impl(pages_rc, list_rc, "xmppfed_partner_list_pages' code == xmppfed_partner_list's", file, line);
    if (pages_rc != XMPPFED_RESULT_OK) {
        check_impl(pages == PAGES_UNSET && count == 12345, "failed list_pages call: the outputs are untouched", file, line);
        m = xmppfed_last_error_message();
        if (!check_impl(m && list_message && strcmp(m, list_message) == 0, "list_pages' error message == list's", file, line)) {
            fprintf(stderr, "    pages: %s\n    list:  %s\n", m ? m : "(null)", list_message ? list_message : "(null)");
        }
        if (pages != NULL && pages != PAGES_UNSET) xmppfed_partner_pages_free(pages);
    } else if (check_impl(pages != NULL && pages != PAGES_UNSET, "list_pages call set the pages", file, line)) {
        check_impl(xmppfed_last_error_message() == NULL, "no last error after the list_pages call", file, line);
        struct paged pg = {0};
        int ended = read_pages_impl(pages, count, &pg, SIZE_MAX, file, line);
        xmppfed_partner_pages_free(pages);
        struct records rs;
        const char *problem = decode_records(pg.buf, pg.len, &rs);
        if (!check_impl(ended && problem == NULL, "the pages read to their end and their records decode", file, line)) {
            fprintf(stderr, "    %s (filter %s, %lu bytes)\n", problem ? problem : "no end", filter ? filter : "(null)", (unsigned long)pg.len);
        } else if (list_rc == XMPPFED_RESULT_OK) {
            char *again = records_as_json(&rs);
            if (!check_impl(json != SENTINEL && json && strcmp(again, json) == 0, "pages written as JSON == the JSON list", file, line)) {
                fprintf(stderr, "    pages: %.2000s\n    list:  %.2000s\n", again, json != SENTINEL && json ? json : "(null)");
            }
            free(again);
            check_impl(rs.count == count, "the list's count == the partners of its pages", file, line);
            listed = (long)rs.count;
        }
        free_records(&rs);
        free_paged(&pg);
    }
    if (list_rc == XMPPFED_RESULT_OK) FREE(json);
    free(list_message);
    return listed;
}

#define CHECK_PAGES_LIKE_LIST(st, filter, local) check_pages_like_list_impl((st), (filter), (local), __FILE__, __LINE__)

/* A damaged central store still opens (the local replica must stay usable); reading it and
 * writing to it report the damage, naming the file. */
static void check_damaged(const char *central, const char *replica, xmppfed_result code, const char *needle, const char *needle2) {
    xmppfed_store *st = STORE_SENTINEL;
    char *out;
    if (CHECK_RC(xmppfed_store_open(central, replica, &st), XMPPFED_RESULT_OK) != XMPPFED_RESULT_OK) return;
    EXPECT_FAIL(code, out, xmppfed_partner_list(st, NULL, false, &out));
    CHECK_MSG(needle);
    if (needle2) CHECK_MSG(needle2);
    xmppfed_partner_pages *pages;
    size_t count;
    EXPECT_PAGES_FAIL(code, pages, count, xmppfed_partner_list_pages(st, NULL, false, &pages, &count));
    CHECK_MSG(needle);
    if (needle2) CHECK_MSG(needle2);
    CHECK(CHECK_PAGES_LIKE_LIST(st, "*", false) == -1);
    EXPECT_FAIL(code, out, xmppfed_partner_new(st, "{\"Identity\":\"x.org\"}", false, &out));
    CHECK_MSG(needle);
    xmppfed_store_close(st);
}

/* ------------------------------------------------------------------------------------------ */
/* Tests                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static void test_static_functions(void) {
    CHECK(xmppfed_abi_version() == XMPPFED_ABI_VERSION);
    /* The version this test was written for: 3 replaced xmppfed_partner_list_records by pages. */
    CHECK(XMPPFED_ABI_VERSION == 3);
    const char *v = xmppfed_version();
    CHECK(v != NULL && v[0] != '\0');
    CHECK(v != NULL && strchr(v, '.') != NULL);

    struct { int code; const char *name; } names[] = {
        {XMPPFED_RESULT_OK, "Ok"},
        {XMPPFED_RESULT_NULL_ARGUMENT, "NullArgument"},
        {XMPPFED_RESULT_INVALID_UTF8, "InvalidUtf8"},
        {XMPPFED_RESULT_JSON_SYNTAX, "JsonSyntax"},
        {XMPPFED_RESULT_JSON_SHAPE, "JsonShape"},
        {XMPPFED_RESULT_INVALID_DOMAIN, "InvalidDomain"},
        {XMPPFED_RESULT_INVALID_VALUE, "InvalidValue"},
        {XMPPFED_RESULT_INVALID_NEGOTIATION, "InvalidNegotiation"},
        {XMPPFED_RESULT_INVALID_FILTER, "InvalidFilter"},
        {XMPPFED_RESULT_ALREADY_EXISTS, "AlreadyExists"},
        {XMPPFED_RESULT_NOT_FOUND, "NotFound"},
        {XMPPFED_RESULT_DOMAIN_CONFLICT, "DomainConflict"},
        {XMPPFED_RESULT_STALE_INSTANCE, "StaleInstance"},
        {XMPPFED_RESULT_STORE_IO, "StoreIo"},
        {XMPPFED_RESULT_STORE_CORRUPT, "StoreCorrupt"},
        {XMPPFED_RESULT_STORE_VERSION, "StoreVersion"},
        {XMPPFED_RESULT_STORE_LOCKED, "StoreLocked"},
        {XMPPFED_RESULT_NO_STORE_LOCATION, "NoStoreLocation"},
        {XMPPFED_RESULT_INPUT_TOO_LARGE, "InputTooLarge"},
        {XMPPFED_RESULT_STORE_UNTRUSTED, "StoreUntrusted"},
        {XMPPFED_RESULT_STORE_MISMATCH, "StoreMismatch"},
        {XMPPFED_RESULT_STORE_CHANGED, "StoreChanged"},
        {XMPPFED_RESULT_IMPORT_REJECTED, "ImportRejected"},
        {XMPPFED_RESULT_PANIC, "Panic"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *n = xmppfed_result_name(names[i].code);
        if (!CHECK(n != NULL && strcmp(n, names[i].name) == 0)) {
            fprintf(stderr, "    code %d: expected %s, got %s\n", names[i].code, names[i].name, n ? n : "(null)");
        }
    }
    CHECK(xmppfed_result_name(23) == NULL);
    CHECK(xmppfed_result_name(99) == NULL);
    CHECK(xmppfed_result_name(101) == NULL);
    CHECK(xmppfed_result_name(-1) == NULL);
    CHECK(xmppfed_result_name(INT32_MAX) == NULL);
    CHECK(xmppfed_result_name(INT32_MIN) == NULL);
    /* The name is static: the same pointer every time. */
    CHECK(xmppfed_result_name(10) == xmppfed_result_name(10));

    /* NULL is accepted and ignored by every release function. */
    xmppfed_string_free(NULL);
    xmppfed_store_close(NULL);
    xmppfed_bytes_free(NULL, 0);
    xmppfed_partner_pages_free(NULL);
    CHECK(1);
    /* The records layout this test decodes (and EMPTY_RECORDS spells out). */
    CHECK(XMPPFED_RECORDS_FORMAT == 1);
}

/* Store opening: missing folders, damaged and future-format logs, a crafted valid log, NULL and
 * non-UTF-8 arguments, the environment variables, an unwritable replica. */
static void test_open(const char *root) {
    xmppfed_store *st;
    char *out;
    xmppfed_partner_pages *pages;
    size_t count;
    char *replica = xasprintf("%s/open-replica", root);

    /* A central folder that does not exist (a share that is down): the store opens, so that the
     * local replica can answer, and every central operation is StoreIo naming the folder. */
    char *missing = xasprintf("%s/does-not-exist", root);
    st = STORE_SENTINEL;
    CHECK_RC(xmppfed_store_open(missing, replica, &st), XMPPFED_RESULT_OK);
    if (st != STORE_SENTINEL && st != NULL) {
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_list(st, NULL, false, &out));
        CHECK_MSG("does-not-exist");
        EXPECT_PAGES_FAIL(XMPPFED_RESULT_STORE_IO, pages, count, xmppfed_partner_list_pages(st, NULL, false, &pages, &count));
        CHECK_MSG("does-not-exist");
        CHECK(CHECK_PAGES_LIKE_LIST(st, "*.org", false) == -1);
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_new(st, "{\"Identity\":\"a.com\"}", false, &out));
        CHECK_MSG("does-not-exist");
        xmppfed_store_close(st);
    }
    /* ... and it was not created behind the caller's back. */
    CHECK(access(missing, F_OK) != 0);
    free(missing);

    /* A central "folder" that is a regular file. */
    char *file = xasprintf("%s/plain-file", root);
    FILE *f = fopen(file, "w");
    if (f) { fputs("x\n", f); fclose(f); }
    st = STORE_SENTINEL;
    CHECK_RC(xmppfed_store_open(file, replica, &st), XMPPFED_RESULT_OK);
    if (st != STORE_SENTINEL && st != NULL) {
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_list(st, NULL, false, &out));
        CHECK_MSG("plain-file");
        EXPECT_PAGES_FAIL(XMPPFED_RESULT_STORE_IO, pages, count, xmppfed_partner_list_pages(st, NULL, false, &pages, &count));
        CHECK_MSG("plain-file");
        xmppfed_store_close(st);
    }

    /* Garbage: StoreCorrupt naming the file. */
    char *garbage = central_with_log(root, "garbage", "this is not a store\nnor is this\n");
    check_damaged(garbage, replica, XMPPFED_RESULT_STORE_CORRUPT, "partners.log", NULL);

    /* An empty log file is damage too (a store file always starts with a header). */
    char *empty = central_with_log(root, "empty", "");
    check_damaged(empty, replica, XMPPFED_RESULT_STORE_CORRUPT, "partners.log", NULL);

    /* A checked header of another format. */
    char *line = framed(HEADER_OTHER, 0);
    char *other = central_with_log(root, "other-format", line);
    free(line);
    check_damaged(other, replica, XMPPFED_RESULT_STORE_CORRUPT, "another-log", NULL);

    /* A header of format version 99: StoreVersion, naming the file and the version. */
    line = framed(HEADER_V99, 0);
    char *future = central_with_log(root, "future", line);
    free(line);
    check_damaged(future, replica, XMPPFED_RESULT_STORE_VERSION, "partners.log", "99");

    /* A valid log written here (proves the CRC and framing above match the library's), with a
     * torn last line (no newline) that a reader must ignore. */
    char *h = framed(HEADER_V1, 0), *r = framed(CRAFTED_RECORD, 0);
    char *raw = xasprintf("%s%s%s", h, r, "0000abcd {\"Seq\":2,\"Remo");
    char *crafted = central_with_log(root, "crafted", raw);
    free(raw);
    st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(crafted, replica, &st), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
        CHECK(st != NULL && st != STORE_SENTINEL);
        CHECK(xmppfed_last_error_message() == NULL);
        EXPECT_OK(out, xmppfed_partner_get(st, "CRAFTED.org.", false, &out));
        CHECK_HAS(out, "\"Identity\":\"crafted.org\"");
        CHECK_HAS(out, "\"Description\":\"written by C\"");
        CHECK_HAS(out, "\"PartnerType\":\"Federated\"");
        CHECK_HAS(out, "\"Revision\":1");
        FREE(out);
        /* The next writer cuts off the torn tail, rewrites the version-1 log as generation 1 of
         * format 2, and continues the numbering at 2. */
        EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"after-tail.org\"}", false, &out));
        CHECK_HAS(out, "\"Revision\":2");
        FREE(out);
        char *v1 = xasprintf("%s/partners.log", crafted), *g1 = xasprintf("%s/partners.1.log", crafted);
        CHECK(access(v1, F_OK) != 0 && access(g1, F_OK) == 0);
        free(v1); free(g1);
        EXPECT_OK(out, xmppfed_partner_list(st, NULL, false, &out));
        CHECK(count_of(out, "\"Identity\":") == 2);
        FREE(out);
        CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, false) == 2);
        xmppfed_store_close(st);
    }

    /* A bad checksum on a line that is not the last one is damage, reported with its offset. */
    char *bad = framed(CRAFTED_RECORD, 1);
    char *tail = framed("{\"Seq\":2,\"Remove\":\"crafted.org\"}", 0);
    raw = xasprintf("%s%s%s", h, bad, tail);
    char *damaged = central_with_log(root, "damaged", raw);
    free(raw); free(bad); free(tail); free(h); free(r);
    check_damaged(damaged, replica, XMPPFED_RESULT_STORE_CORRUPT, "partners.log", "offset");

    /* NULL and non-UTF-8 arguments. */
    CHECK_RC(xmppfed_store_open(crafted, replica, NULL), XMPPFED_RESULT_NULL_ARGUMENT);
    CHECK_MSG("store_out");
    st = STORE_SENTINEL;
    CHECK_RC(xmppfed_store_open(BAD_UTF8, replica, &st), XMPPFED_RESULT_INVALID_UTF8);
    CHECK(st == STORE_SENTINEL);
    CHECK_MSG("central_dir");
    st = STORE_SENTINEL;
    CHECK_RC(xmppfed_store_open(crafted, BAD_UTF8, &st), XMPPFED_RESULT_INVALID_UTF8);
    CHECK(st == STORE_SENTINEL);
    CHECK_MSG("replica_dir");

    /* NULL folders: taken from $XMPPFED_STORE / $XMPPFED_REPLICA. */
    setenv("XMPPFED_STORE", crafted, 1);
    setenv("XMPPFED_REPLICA", replica, 1);
    st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(NULL, NULL, &st), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
        EXPECT_OK(out, xmppfed_store_paths(st, &out));
        CHECK_HAS(out, "crafted\",");
        CHECK_HAS(out, "open-replica\"");
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st, "crafted.org", false, &out));
        FREE(out);
        xmppfed_store_close(st);
    }
    /* $XMPPFED_STORE naming a missing folder behaves exactly like an explicit path. */
    char *missing_env = xasprintf("%s/env-missing", root);
    setenv("XMPPFED_STORE", missing_env, 1);
    st = STORE_SENTINEL;
    CHECK_RC(xmppfed_store_open(NULL, NULL, &st), XMPPFED_RESULT_OK);
    if (st != STORE_SENTINEL && st != NULL) {
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_list(st, NULL, false, &out));
        CHECK_MSG("env-missing");
        xmppfed_store_close(st);
    }
    CHECK(access(missing_env, F_OK) != 0);
    free(missing_env);
    unsetenv("XMPPFED_STORE");
    unsetenv("XMPPFED_REPLICA");

    /* A lock timeout that is not a number is refused at open. */
    setenv("XMPPFED_LOCK_TIMEOUT_MS", "soon", 1);
    st = STORE_SENTINEL;
    CHECK_RC(xmppfed_store_open(crafted, replica, &st), XMPPFED_RESULT_INVALID_VALUE);
    CHECK(st == STORE_SENTINEL);
    CHECK_MSG("XMPPFED_LOCK_TIMEOUT_MS");
    unsetenv("XMPPFED_LOCK_TIMEOUT_MS");

    /* A replica that cannot be created (its parent is a file): the commit still succeeds, with a
     * ReplicaNotRefreshed warning; replicate and local reads then fail with StoreIo. */
    char *fresh = make_dir(root, "fresh-central");
    char *bad_replica = xasprintf("%s/replica", file);
    st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(fresh, bad_replica, &st), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
        EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"committed.org\"}", false, &out));
        CHECK_HAS(out, "\"Id\":\"ReplicaNotRefreshed\"");
        CHECK_HAS(out, "\"Identity\":\"committed.org\"");
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st, "committed.org", false, &out));
        FREE(out);
        EXPECT_FAIL_NOOUT(XMPPFED_RESULT_STORE_IO, xmppfed_store_replicate(st));
        CHECK_MSG("plain-file");
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_get(st, "committed.org", true, &out));
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_list(st, NULL, true, &out));
        EXPECT_PAGES_FAIL(XMPPFED_RESULT_STORE_IO, pages, count, xmppfed_partner_list_pages(st, NULL, true, &pages, &count));
        CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, true) == -1);
        /* The central store answers the same list either way. */
        CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, false) == 1);
        xmppfed_store_close(st);
    }

    free(bad_replica); free(fresh); free(garbage); free(empty); free(other); free(future);
    free(crafted); free(damaged); free(file); free(replica);
}

/* The partner-type defaults of SPEC.md, as the library writes them. */
static void check_defaults(const char *partner) {
    CHECK_HAS(partner, "\"AdditionalDomains\":[]");
    CHECK_HAS(partner, "\"Description\":\"\"");
    CHECK_HAS(partner, "\"ProxyFqdn\":\"\"");
    CHECK_HAS(partner, "\"PartnerType\":\"PublicUnverified\"");
    CHECK_HAS(partner, "\"TlsNegotiation\":\"Required\"");
    CHECK_HAS(partner, "\"SaslNegotiation\":\"Required\"");
    CHECK_HAS(partner, "\"SupportDialbackNegotiation\":true");
    CHECK_HAS(partner, "\"EnableKeepAlive\":true");
    CHECK_HAS(partner, "\"ConnectionLimit\":20");
}

static void test_new(xmppfed_store *st) {
    char *out;

    /* Defaults, canonical identity (lowercase, trailing dot stripped). The defaults are a warned
       combination (dialback not used), but a request that chose no negotiation setting gets no
       warning about them. */
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"Contoso.COM.\"}", false, &out));
    CHECK(out && strncmp(out, "{\"Partner\":{", 12) == 0);
    CHECK_HAS(out, "\"Identity\":\"contoso.com\"");
    CHECK_HAS(out, "\"Domain\":\"contoso.com\"");
    check_defaults(out);
    CHECK_HAS(out, "\"Revision\":1");
    CHECK_HAS(out, "\"Warnings\":[]");
    FREE(out);
    /* The same combination chosen explicitly (built in memory): the DialbackNotUsed warning. */
    EXPECT_OK(out, xmppfed_partner_new(NULL, "{\"Identity\":\"chosen.example\",\"SupportDialbackNegotiation\":true}", true, &out));
    CHECK_HAS(out, "\"Warnings\":[{\"Id\":\"DialbackNotUsed\",\"Message\":\"");
    CHECK(count_of(out, "\"Id\":") == 1);
    FREE(out);

    /* By Domain, with every property given, enum names case-insensitive on input. */
    EXPECT_OK(out, xmppfed_partner_new(st,
        "{\"Domain\":\"Fabrikam.com\",\"AdditionalDomains\":[\"eu.fabrikam.com\",\"NA.Fabrikam.com.\",\"na.fabrikam.com\"],"
        "\"Description\":\"Fabrikam \\u00e9 contact: ops\",\"ProxyFqdn\":\"Proxy.Fabrikam.com\",\"PartnerType\":\"federated\","
        "\"TlsNegotiation\":\"REQUIRED\",\"SaslNegotiation\":\"notsupported\",\"SupportDialbackNegotiation\":true,"
        "\"EnableKeepAlive\":false,\"ConnectionLimit\":75}", false, &out));
    CHECK_HAS(out, "\"Identity\":\"fabrikam.com\"");
    CHECK_HAS(out, "\"Domain\":\"fabrikam.com\"");
    CHECK_HAS(out, "\"AdditionalDomains\":[\"eu.fabrikam.com\",\"na.fabrikam.com\"]");
    CHECK_HAS(out, "\"Description\":\"Fabrikam \xc3\xa9 contact: ops\"");
    CHECK_HAS(out, "\"ProxyFqdn\":\"proxy.fabrikam.com\"");
    CHECK_HAS(out, "\"PartnerType\":\"Federated\"");
    CHECK_HAS(out, "\"TlsNegotiation\":\"Required\"");
    CHECK_HAS(out, "\"SaslNegotiation\":\"NotSupported\"");
    CHECK_HAS(out, "\"EnableKeepAlive\":false");
    CHECK_HAS(out, "\"ConnectionLimit\":75");
    CHECK_HAS(out, "\"Revision\":2");
    CHECK_HAS(out, "\"Warnings\":[]");
    FREE(out);

    /* Identity and Domain together are fine when they name the same domain. */
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"example.org\",\"Domain\":\"EXAMPLE.org.\",\"TlsNegotiation\":\"Optional\"}", false, &out));
    CHECK_HAS(out, "\"Identity\":\"example.org\"");
    CHECK_HAS(out, "\"Id\":\"SaslWithoutRequiredTls\"");
    CHECK_LACKS(out, "DialbackNotUsed");
    FREE(out);

    /* IDN: the A-label is stored as the canonical U-label; the Unicode spelling is the same key. */
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"" BUCHER_ALABEL "\"}", false, &out));
    CHECK_HAS(out, "\"Identity\":\"" BUCHER "\"");
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_ALREADY_EXISTS, out, xmppfed_partner_new(st, "{\"Identity\":\"" BUCHER_UPPER "\"}", false, &out));
    CHECK_MSG(BUCHER);

    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"alpha.org\",\"SupportDialbackNegotiation\":false}", false, &out));
    CHECK_HAS(out, "\"Warnings\":[]");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"cantoso.com\"}", false, &out));
    FREE(out);

    /* In memory with a NULL store: validated, returned with Revision 0, nothing stored. */
    EXPECT_OK(out, xmppfed_partner_new(NULL, "{\"Identity\":\"Memory.NET\",\"Description\":\"draft\",\"TlsNegotiation\":\"Required\"}", true, &out));
    CHECK_HAS(out, "\"Identity\":\"memory.net\"");
    CHECK_HAS(out, "\"Description\":\"draft\"");
    CHECK_HAS(out, "\"Revision\":0");
    CHECK_HAS(out, "\"Id\":\"DialbackNotUsed\"");
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "memory.net", false, &out));
    CHECK_MSG("memory.net");
    /* In memory with a store: still nothing stored. */
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"memory2.net\"}", true, &out));
    CHECK_HAS(out, "\"Revision\":0");
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "memory2.net", false, &out));
    /* In memory, an existing identity is not an error (the store is not consulted)... */
    EXPECT_OK(out, xmppfed_partner_new(NULL, "{\"Identity\":\"contoso.com\"}", true, &out));
    FREE(out);
    /* ... but validation still applies. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_new(NULL, "{\"Identity\":\"bad..com\"}", true, &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_new(NULL, "{\"Identity\":\"a.com\",\"ConnectionLimit\":0}", true, &out));

    /* Stored New with a NULL store. */
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_new(NULL, "{\"Identity\":\"nostore.com\"}", false, &out));
    CHECK_MSG("store");

    /* Duplicate identity, in any spelling. */
    EXPECT_FAIL(XMPPFED_RESULT_ALREADY_EXISTS, out, xmppfed_partner_new(st, "{\"Identity\":\"CONTOSO.com.\"}", false, &out));
    CHECK_MSG("contoso.com");
    EXPECT_FAIL(XMPPFED_RESULT_ALREADY_EXISTS, out, xmppfed_partner_new(st, "{\"Domain\":\"contoso.com\"}", false, &out));

    /* A domain claimed by another partner: as an additional domain, or as the identity. */
    EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out,
                xmppfed_partner_new(st, "{\"Identity\":\"rival.com\",\"AdditionalDomains\":[\"EU.fabrikam.com\"]}", false, &out));
    CHECK_MSG("eu.fabrikam.com");
    CHECK_MSG("'fabrikam.com'"); /* the owner */
    EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out, xmppfed_partner_new(st, "{\"Identity\":\"na.fabrikam.com\"}", false, &out));
    CHECK_MSG("na.fabrikam.com");
    EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out,
                xmppfed_partner_new(st, "{\"Identity\":\"rival.com\",\"AdditionalDomains\":\"contoso.com\"}", false, &out));
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "rival.com", false, &out));

    /* Invalid domains, in every domain-valued property. */
    static const char *const bad_domains[] = {
        "bad..com", "*.com", "a?.com", "10.0.0.1", "nodots", "", ".", "-bad.com", "bad-.com", "a b.com",
        "under_score.com", "[::1]", "::1", "1.2.3.4.5", "xn--abc-.com",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", /* 64-octet label */
    };
    for (size_t i = 0; i < sizeof bad_domains / sizeof bad_domains[0]; i++) {
        char *json = xasprintf("{\"Identity\":\"%s\"}", bad_domains[i]);
        EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_new(st, json, false, &out));
        if (bad_domains[i][0] != '\0') CHECK_MSG(bad_domains[i]);
        free(json);
    }
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_new(st, "{\"Domain\":\"bad..com\"}", false, &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out,
                xmppfed_partner_new(st, "{\"Identity\":\"ok.com\",\"AdditionalDomains\":[\"fine.com\",\"*.ok.com\"]}", false, &out));
    CHECK_MSG("*.ok.com");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_new(st, "{\"Identity\":\"ok.com\",\"ProxyFqdn\":\"10.0.0.1\"}", false, &out));
    CHECK_MSG("ProxyFqdn");

    /* Negotiation: dialback off with TLS or SASL NotSupported is rejected. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_NEGOTIATION, out, xmppfed_partner_new(st,
        "{\"Identity\":\"neg.com\",\"SupportDialbackNegotiation\":false,\"TlsNegotiation\":\"NotSupported\"}", false, &out));
    CHECK_MSG("neg.com");
    CHECK_MSG("TLS");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_NEGOTIATION, out, xmppfed_partner_new(st,
        "{\"Identity\":\"neg.com\",\"SupportDialbackNegotiation\":false,\"SaslNegotiation\":\"NotSupported\"}", false, &out));
    CHECK_MSG("SASL");

    /* Values out of range. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_new(st, "{\"Identity\":\"limit.com\",\"ConnectionLimit\":0}", false, &out));
    CHECK_MSG("ConnectionLimit");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_new(st, "{}", false, &out));
    CHECK_MSG("Identity");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_new(st, "{\"Identity\":\"one.com\",\"Domain\":\"two.com\"}", false, &out));
    CHECK_MSG("Domain");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_new(st,
        "{\"Identity\":\"self.com\",\"AdditionalDomains\":[\"SELF.com\"]}", false, &out));
    CHECK_MSG("AdditionalDomains");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_new(st,
        "{\"Identity\":\"ctl.com\",\"Description\":\"a\\u001b[2Jb\"}", false, &out));
    CHECK_MSG("Description");
    {
        /* Domain length limits: 253 octets accepted, 254 refused; labels up to 63 octets. */
        char name[300];
        char l63[64];
        memset(l63, 'a', 63);
        l63[63] = '\0';
        snprintf(name, sizeof name, "%s.%s.%s.%.61s", l63, l63, l63, l63);
        CHECK(strlen(name) == 253);
        char *json = xasprintf("{\"Identity\":\"%s\"}", name);
        EXPECT_OK(out, xmppfed_partner_new(NULL, json, true, &out));
        FREE(out);
        free(json);
        snprintf(name, sizeof name, "%s.%s.%s.%.62s", l63, l63, l63, l63);
        json = xasprintf("{\"Identity\":\"%s\"}", name);
        EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_new(NULL, json, true, &out));
        free(json);
    }
    /* The largest ConnectionLimit. */
    EXPECT_OK(out, xmppfed_partner_new(NULL, "{\"Identity\":\"max.com\",\"ConnectionLimit\":4294967295}", true, &out));
    CHECK_HAS(out, "\"ConnectionLimit\":4294967295");
    FREE(out);
    {
        /* Description limit counts characters, not bytes: 1,024 two-byte characters are fine. */
        char *desc = malloc(1024 * 2 + 1);
        if (!desc) { perror("malloc"); exit(2); }
        for (int i = 0; i < 1024; i++) { desc[2 * i] = '\xc3'; desc[2 * i + 1] = '\xa9'; }
        desc[2048] = '\0';
        char *json = xasprintf("{\"Identity\":\"desc.com\",\"Description\":\"%s\"}", desc);
        EXPECT_OK(out, xmppfed_partner_new(NULL, json, true, &out));
        FREE(out);
        free(json);
        free(desc);
    }
    {
        /* Description: 1,024 characters accepted, 1,025 refused (never truncated). */
        char desc[1026];
        memset(desc, 'd', sizeof desc - 1);
        desc[1024] = '\0';
        char *json = xasprintf("{\"Identity\":\"desc.com\",\"Description\":\"%s\"}", desc);
        EXPECT_OK(out, xmppfed_partner_new(NULL, json, true, &out));
        FREE(out);
        free(json);
        desc[1024] = 'd';
        desc[1025] = '\0';
        json = xasprintf("{\"Identity\":\"desc.com\",\"Description\":\"%s\"}", desc);
        EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_new(st, json, false, &out));
        CHECK_MSG("1024");
        free(json);
    }

    /* Malformed JSON. */
    static const char *const syntax[] = {
        "", "{", "{\"Identity\":", "{\"Identity\":\"a.com\"", "not json", "{\"Identity\":\"a.com\",}",
        "{\"Identity\":\"a.com\"} trailing", "{'Identity':'a.com'}",
    };
    for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++) {
        EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_partner_new(st, syntax[i], false, &out));
        EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_partner_new(NULL, syntax[i], true, &out));
    }
    {
        /* Nesting deeper than 128 is a syntax error, not a crash. */
        char deep[512];
        size_t n = 0;
        n += (size_t)sprintf(deep, "{\"AdditionalDomains\":");
        for (int i = 0; i < 200; i++) deep[n++] = '[';
        for (int i = 0; i < 200; i++) deep[n++] = ']';
        deep[n++] = '}';
        deep[n] = '\0';
        EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_partner_new(st, deep, false, &out));
    }

    /* Well-formed JSON of the wrong shape. */
    static const char *const shape[] = {
        "{\"Identity\":5}", "{\"Identity\":\"a.com\",\"ConnectionLimit\":\"20\"}",
        "{\"Identity\":\"a.com\",\"ConnectionLimit\":-1}", "{\"Identity\":\"a.com\",\"ConnectionLimit\":4294967296}",
        "{\"Identity\":\"a.com\",\"ConnectionLimit\":1.5}", "{\"Identity\":\"a.com\",\"EnableKeepAlive\":\"yes\"}",
        "{\"Identity\":\"a.com\",\"PartnerType\":\"Trusted\"}", "\"a.com\"", "42", "null",
    };
    for (size_t i = 0; i < sizeof shape / sizeof shape[0]; i++) {
        EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_new(st, shape[i], false, &out));
    }
    /* An AdditionalDomains value of the wrong form is reported in the terms of that property. */
    static const char *const list_form[] = {
        "{\"Identity\":\"a.com\",\"AdditionalDomains\":[1]}", "{\"Identity\":\"a.com\",\"AdditionalDomains\":true}",
        "{\"Identity\":\"a.com\",\"AdditionalDomains\":{\"Append\":\"b.com\"}}",
    };
    for (size_t i = 0; i < sizeof list_form / sizeof list_form[0]; i++) {
        EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_new(st, list_form[i], false, &out));
        CHECK_MSG("AdditionalDomains");
    }
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_new(st, "{\"Identity\":\"a.com\",\"Colour\":\"red\"}", false, &out));
    CHECK_MSG("Colour");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_new(st, "{\"Identity\":\"a.com\",\"PartnerType\":\"Trusted\"}", false, &out));
    CHECK_MSG("Trusted");
    /* Revision is not an input of New. */
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_new(st, "{\"Identity\":\"a.com\",\"Revision\":5}", false, &out));

    /* Nothing above was stored. */
    EXPECT_OK(out, xmppfed_partner_list(st, NULL, false, &out));
    CHECK(count_of(out, "\"Identity\":") == 6);
    FREE(out);
}

/* An input of `size` bytes: {"Identity":"big.com","Description":"ddd..."} (only the size matters). */
static char *big_json(const char *prefix, size_t size) {
    const char *suffix = "\"}";
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = malloc(size + 1);
    if (!s) { perror("malloc"); exit(2); }
    memcpy(s, prefix, pl);
    memset(s + pl, 'd', size - pl - sl);
    memcpy(s + size - sl, suffix, sl + 1);
    return s;
}

static void test_input_too_large(xmppfed_store *st) {
    char *out;
    const char *prefix = "{\"Identity\":\"big.com\",\"Description\":\"";
    char *at_limit = big_json(prefix, XMPPFED_MAX_JSON_BYTES);
    char *over = big_json(prefix, XMPPFED_MAX_JSON_BYTES + 1);
    CHECK(strlen(at_limit) == XMPPFED_MAX_JSON_BYTES);
    /* Exactly at the limit: accepted as input, refused by the Description limit. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_new(NULL, at_limit, true, &out));
    CHECK_MSG("Description");
    /* One byte more: refused by size, before parsing. */
    EXPECT_FAIL(XMPPFED_RESULT_INPUT_TOO_LARGE, out, xmppfed_partner_new(st, over, false, &out));
    CHECK_MSG("4194304");
    EXPECT_FAIL(XMPPFED_RESULT_INPUT_TOO_LARGE, out, xmppfed_partner_new(NULL, over, true, &out));
    free(over);
    over = big_json("{\"Description\":\"", XMPPFED_MAX_JSON_BYTES + 1);
    EXPECT_FAIL(XMPPFED_RESULT_INPUT_TOO_LARGE, out, xmppfed_partner_set(st, "contoso.com", over, &out));
    CHECK_MSG("changes_json");
    EXPECT_FAIL(XMPPFED_RESULT_INPUT_TOO_LARGE, out, xmppfed_partner_set_instance(st, over, NULL, false, &out));
    CHECK_MSG("instance_json");
    EXPECT_FAIL(XMPPFED_RESULT_INPUT_TOO_LARGE, out, xmppfed_partner_set_instance(st, over, NULL, true, &out));
    free(over);
    free(at_limit);
}

/* Get as records: one record, byte for byte the one page the list gives for that identity. */
static void check_get_records(xmppfed_store *st, const char *identity, const char *canonical) {
    uint8_t *one;
    size_t one_len, count;
    xmppfed_partner_pages *pages;
    struct paged listed = {0};
    EXPECT_RECORDS_OK(one, one_len, xmppfed_partner_get_records(st, identity, false, &one, &one_len));
    EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, canonical, false, &pages, &count));
    if (pages) CHECK(READ_PAGES(pages, count, &listed, SIZE_MAX) && count == 1 && listed.pages == 1);
    FREE_PAGES(pages);
    struct records rs;
    CHECK(one && decode_records(one, one_len, &rs) == NULL && rs.count == 1 && rs.items[0].identity.len == strlen(canonical) &&
          memcmp(rs.items[0].identity.bytes, canonical, strlen(canonical)) == 0);
    if (one) free_records(&rs);
    CHECK(one && listed.first && one_len == listed.first_len && memcmp(one, listed.first, one_len) == 0);
    FREE_RECORDS(one, one_len);
    free_paged(&listed);
}

static void test_get_and_list(xmppfed_store *st) {
    char *out;

    EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
    CHECK(out && out[0] == '{');
    CHECK_HAS(out, "\"Identity\":\"contoso.com\"");
    check_defaults(out);
    FREE(out);
    /* Case-insensitive, trailing dot, IDN spellings. */
    EXPECT_OK(out, xmppfed_partner_get(st, "CONTOSO.Com.", false, &out));
    CHECK_HAS(out, "\"Identity\":\"contoso.com\"");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_get(st, BUCHER_UPPER, false, &out));
    CHECK_HAS(out, "\"Identity\":\"" BUCHER "\"");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_get(st, "XN--BCHER-KVA.example.", false, &out));
    CHECK_HAS(out, "\"Identity\":\"" BUCHER "\"");
    FREE(out);

    /* Missing: NotFound naming the identity; a failure then a success clears the message. */
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "Missing.com", false, &out));
    CHECK_MSG("missing.com");
    EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
    FREE(out);
    CHECK(xmppfed_last_error_message() == NULL);
    /* An additional domain is not an identity. */
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "eu.fabrikam.com", false, &out));
    /* Get takes no wildcards and no invalid domains. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_get(st, "*.com", false, &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_get(st, "bad..com", false, &out));
    CHECK_MSG("bad..com");

    /* The same reads as records (xmppfed_partner_get_records), with the same errors. */
    check_get_records(st, "contoso.com", "contoso.com");
    check_get_records(st, "CONTOSO.Com.", "contoso.com");
    check_get_records(st, "XN--BCHER-KVA.example.", BUCHER);
    uint8_t *records;
    size_t records_len;
    EXPECT_RECORDS_FAIL(XMPPFED_RESULT_NOT_FOUND, records, records_len, xmppfed_partner_get_records(st, "Missing.com", false, &records, &records_len));
    CHECK_MSG("missing.com");
    EXPECT_RECORDS_FAIL(XMPPFED_RESULT_NOT_FOUND, records, records_len, xmppfed_partner_get_records(st, "eu.fabrikam.com", true, &records, &records_len));
    EXPECT_RECORDS_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, records, records_len, xmppfed_partner_get_records(st, "*.com", false, &records, &records_len));
    EXPECT_RECORDS_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, records, records_len, xmppfed_partner_get_records(st, NULL, false, &records, &records_len));
    CHECK_MSG("identity");
    EXPECT_RECORDS_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, records, records_len, xmppfed_partner_get_records(NULL, "contoso.com", false, &records, &records_len));
    records_len = 12345;
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_get_records(st, "contoso.com", false, NULL, &records_len));
    CHECK(records_len == 12345);
    records = RECORDS_UNSET;
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_get_records(st, "contoso.com", false, &records, NULL));
    CHECK(records == RECORDS_UNSET);

    /* Every partner, sorted by identity. */
    static const char *const all[] = {"alpha.org", BUCHER, "cantoso.com", "contoso.com", "example.org", "fabrikam.com"};
    EXPECT_OK(out, xmppfed_partner_list(st, NULL, false, &out));
    CHECK(out && out[0] == '[' && out[strlen(out) - 1] == ']');
    CHECK(count_of(out, "\"Identity\":") == 6);
    CHECK(in_order(out, all, 6));
    FREE(out);

    static const char *const orgs[] = {"alpha.org", "example.org"};
    EXPECT_OK(out, xmppfed_partner_list(st, "*.org", false, &out));
    CHECK(count_of(out, "\"Identity\":") == 2);
    CHECK(in_order(out, orgs, 2));
    FREE(out);

    static const char *const cntoso[] = {"cantoso.com", "contoso.com"};
    EXPECT_OK(out, xmppfed_partner_list(st, "c?ntoso.com", false, &out));
    CHECK(count_of(out, "\"Identity\":") == 2);
    CHECK(in_order(out, cntoso, 2));
    FREE(out);

    static const char *const a_to_c[] = {"alpha.org", BUCHER, "cantoso.com", "contoso.com"};
    EXPECT_OK(out, xmppfed_partner_list(st, "[a-c]*", false, &out));
    CHECK(count_of(out, "\"Identity\":") == 4);
    CHECK(in_order(out, a_to_c, 4));
    FREE(out);

    /* Case-insensitive, whole string only. */
    EXPECT_OK(out, xmppfed_partner_list(st, "CONTOSO.COM", false, &out));
    CHECK(count_of(out, "\"Identity\":") == 1);
    CHECK_HAS(out, "\"Identity\":\"contoso.com\"");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_list(st, "contoso", false, &out));
    CHECK(out && strcmp(out, "[]") == 0);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_list(st, "*", false, &out));
    CHECK(count_of(out, "\"Identity\":") == 6);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_list(st, "[fe]*.???", false, &out));
    CHECK(count_of(out, "\"Identity\":") == 2);
    FREE(out);
    /* Backtick escapes: `? is a literal question mark, so nothing matches. */
    EXPECT_OK(out, xmppfed_partner_list(st, "c`?ntoso.com", false, &out));
    CHECK(out && strcmp(out, "[]") == 0);
    FREE(out);
    /* The Unicode identity is matched by a pattern in Unicode. */
    EXPECT_OK(out, xmppfed_partner_list(st, "B\xc3\x9c*", false, &out));
    CHECK(count_of(out, "\"Identity\":") == 1);
    CHECK_HAS(out, BUCHER);
    FREE(out);

    /* Invalid patterns. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_FILTER, out, xmppfed_partner_list(st, "[abc", false, &out));
    CHECK_MSG("[abc");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_FILTER, out, xmppfed_partner_list(st, "[z-a]*", false, &out));
    CHECK_MSG("z-a");

    /* The same lists as pages of binary records (test_list_pages checks the fields one by one). */
    static const struct { const char *filter; long count; } lists[] = {
        {NULL, 6}, {"*.org", 2}, {"c?ntoso.com", 2}, {"[a-c]*", 4}, {"CONTOSO.COM", 1}, {"contoso", 0},
        {"*", 6}, {"[fe]*.???", 2}, {"c`?ntoso.com", 0}, {"B\xc3\x9c*", 1},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        if (!CHECK(CHECK_PAGES_LIKE_LIST(st, lists[i].filter, false) == lists[i].count)) {
            fprintf(stderr, "    filter %s\n", lists[i].filter ? lists[i].filter : "(null)");
        }
    }
    xmppfed_partner_pages *pages;
    size_t count;
    EXPECT_PAGES_FAIL(XMPPFED_RESULT_INVALID_FILTER, pages, count, xmppfed_partner_list_pages(st, "[abc", false, &pages, &count));
    CHECK_MSG("[abc");
    EXPECT_PAGES_FAIL(XMPPFED_RESULT_INVALID_FILTER, pages, count, xmppfed_partner_list_pages(st, "[z-a]*", false, &pages, &count));
    CHECK_MSG("z-a");
    CHECK(CHECK_PAGES_LIKE_LIST(st, "[abc", false) == -1);
    CHECK(CHECK_PAGES_LIKE_LIST(st, "[z-a]*", false) == -1);
}

/* Identity completion: a literal, case-insensitive prefix; sorted; capped; the replica too. */
static void test_complete(xmppfed_store *st) {
    char *out;

    EXPECT_OK(out, xmppfed_partner_complete(st, "c", 10, false, &out));
    CHECK(out && strcmp(out, "[\"cantoso.com\",\"contoso.com\"]") == 0);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_complete(st, "CON", 10, false, &out));
    CHECK(out && strcmp(out, "[\"contoso.com\"]") == 0);
    FREE(out);
    /* The local replica answers the same (it was refreshed by every commit). */
    EXPECT_OK(out, xmppfed_partner_complete(st, "con", 10, true, &out));
    CHECK(out && strcmp(out, "[\"contoso.com\"]") == 0);
    FREE(out);
    /* An empty prefix: every identity, sorted, up to max. */
    EXPECT_OK(out, xmppfed_partner_complete(st, "", 100, false, &out));
    CHECK(out && strcmp(out, "[\"alpha.org\",\"" BUCHER "\",\"cantoso.com\",\"contoso.com\",\"example.org\",\"fabrikam.com\"]") == 0);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_complete(st, "", 2, false, &out));
    CHECK(out && strcmp(out, "[\"alpha.org\",\"" BUCHER "\"]") == 0);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_complete(st, "", 0, false, &out));
    CHECK(out && strcmp(out, "[]") == 0);
    FREE(out);
    /* Wildcard characters are literal: no identity holds them. */
    EXPECT_OK(out, xmppfed_partner_complete(st, "c*", 10, false, &out));
    CHECK(out && strcmp(out, "[]") == 0);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_complete(st, "[a-c]", 10, false, &out));
    CHECK(out && strcmp(out, "[]") == 0);
    FREE(out);
    /* Additional domains are not identities; a Unicode prefix matches the Unicode identity. */
    EXPECT_OK(out, xmppfed_partner_complete(st, "eu.", 10, false, &out));
    CHECK(out && strcmp(out, "[]") == 0);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_complete(st, "B\xc3\x9c", 10, false, &out));
    CHECK(out && strcmp(out, "[\"" BUCHER "\"]") == 0);
    FREE(out);

    /* Errors: outputs untouched. */
    char *long_prefix = malloc(1026);
    if (CHECK(long_prefix != NULL)) {
        memset(long_prefix, 'a', 1025);
        long_prefix[1025] = '\0';
        EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_complete(st, long_prefix, 10, false, &out));
        CHECK_MSG("1025 bytes");
        free(long_prefix);
    }
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_complete(NULL, "c", 10, false, &out));
    CHECK_MSG("store");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_complete(st, NULL, 10, false, &out));
    CHECK_MSG("prefix");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_complete(st, "c", 10, false, NULL));
    CHECK_MSG("identities_json_out");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_complete(st, BAD_UTF8, 10, false, &out));
    CHECK_MSG("prefix");
}

/* Explaining remote domains: allowed or not, the covering partner and how, the methods in the
 * matrix's order, the warnings, and near misses. Partners here (from test_new): contoso.com
 * (defaults), fabrikam.com (eu. and na.fabrikam.com; TLS Required, SASL NotSupported, dialback on;
 * ProxyFqdn proxy.fabrikam.com), example.org (TLS Optional), alpha.org (dialback off), bücher.example. */
static void test_explain(xmppfed_store *st) {
    char *out;

    EXPECT_OK(out, xmppfed_partner_explain(st, "Contoso.COM.", false, &out));
    static const char contoso_head[] = "{\"Input\":\"Contoso.COM.\",\"Domain\":\"contoso.com\",\"AsciiDomain\":\"contoso.com\",\"Allowed\":true,"
                              "\"Partner\":\"contoso.com\",\"CoveredAs\":\"PrimaryDomain\",\"PartnerType\":\"PublicUnverified\","
                              "\"TlsNegotiation\":\"Required\",\"SaslNegotiation\":\"Required\",\"SupportDialbackNegotiation\":true,"
                              "\"Methods\":[\"SaslOverTls\"],\"NoMethodReason\":null,\"Warnings\":[{\"Id\":\"DialbackNotUsed\"";
    CHECK(out && strncmp(out, contoso_head, sizeof contoso_head - 1) == 0);
    CHECK_HAS(out, "\"Hints\":[]");
    CHECK_HAS(out, "\"Summary\":\"contoso.com is allowed as the primary domain of partner contoso.com; tried in order: SASL EXTERNAL over TLS\"");
    FREE(out);
    /* An additional domain; SASL NotSupported with TLS Required: dialback over TLS only. */
    EXPECT_OK(out, xmppfed_partner_explain(st, "NA.Fabrikam.com.", false, &out));
    CHECK_HAS(out, "\"Domain\":\"na.fabrikam.com\"");
    CHECK_HAS(out, "\"Partner\":\"fabrikam.com\",\"CoveredAs\":\"AdditionalDomain\",\"PartnerType\":\"Federated\"");
    CHECK_HAS(out, "\"Methods\":[\"TlsDialback\"]");
    CHECK_HAS(out, "\"Warnings\":[]");
    FREE(out);
    /* TLS Optional, SASL Required: SASL over TLS, then dialback without TLS, and the SASL warning. */
    EXPECT_OK(out, xmppfed_partner_explain(st, "example.org", false, &out));
    CHECK_HAS(out, "\"Methods\":[\"SaslOverTls\",\"TcpDialback\"]");
    CHECK_HAS(out, "\"Warnings\":[{\"Id\":\"SaslWithoutRequiredTls\"");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_explain(st, "alpha.org", false, &out));
    CHECK_HAS(out, "\"SupportDialbackNegotiation\":false,\"Methods\":[\"SaslOverTls\"]");
    FREE(out);
    /* The A-label form is the same partner, and a hint says so. */
    EXPECT_OK(out, xmppfed_partner_explain(st, BUCHER_ALABEL, false, &out));
    CHECK_HAS(out, "\"Domain\":\"" BUCHER "\",\"AsciiDomain\":\"" BUCHER_ALABEL "\",\"Allowed\":true,\"Partner\":\"" BUCHER "\"");
    CHECK_HAS(out, "\"Hints\":[{\"Id\":\"SameDomainOtherForm\"");
    FREE(out);

    /* Not allowed: no partner, no settings, no methods, and the near misses with their fixes. */
    EXPECT_OK(out, xmppfed_partner_explain(st, "chat.contoso.com", false, &out));
    CHECK_HAS(out, "\"Allowed\":false,\"Partner\":null,\"CoveredAs\":\"NotCovered\",\"PartnerType\":null,\"TlsNegotiation\":null,"
                   "\"SaslNegotiation\":null,\"SupportDialbackNegotiation\":null,\"Methods\":[],\"NoMethodReason\":\"chat.contoso.com is not on the allowed-partner list");
    CHECK_HAS(out, "\"Hints\":[{\"Id\":\"SubdomainOfPartnerDomain\",\"Message\":\"chat.contoso.com is a subdomain of contoso.com, the primary domain of partner contoso.com; subdomains are not covered implicitly.");
    CHECK_HAS(out, "\"Partner\":\"contoso.com\",\"Fix\":\"Set-CsXmppAllowedPartner -Identity contoso.com -AdditionalDomains @{Add='chat.contoso.com'}\"}]");
    CHECK(count_of(out, "\"Id\":") == 1);
    FREE(out);
    /* Every claimed ancestor, nearest first: eu.fabrikam.com (additional), fabrikam.com (primary). */
    EXPECT_OK(out, xmppfed_partner_explain(st, "x.eu.fabrikam.com", false, &out));
    CHECK(count_of(out, "\"Id\":\"SubdomainOfPartnerDomain\"") == 2);
    CHECK_HAS(out, "of eu.fabrikam.com, an additional domain of partner fabrikam.com");
    CHECK(out && strstr(out, "an additional domain of partner") < strstr(out, "the primary domain of partner"));
    FREE(out);
    /* The local replica answers the same; a partner's proxy name is not one of its domains. */
    EXPECT_OK(out, xmppfed_partner_explain(st, "FABRIKAM.com", true, &out));
    CHECK_HAS(out, "\"Allowed\":true");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_explain(st, "proxy.fabrikam.com", true, &out));
    CHECK_HAS(out, "\"Allowed\":false");
    /* ... and a subdomain of the partner's primary domain: both near misses, ancestors first. */
    CHECK_HAS(out, "\"Hints\":[{\"Id\":\"SubdomainOfPartnerDomain\"");
    CHECK_HAS(out, "},{\"Id\":\"ProxyFqdnOfPartner\",\"Message\":\"proxy.fabrikam.com is the ProxyFqdn of partner fabrikam.com");
    CHECK_HAS(out, "\"Partner\":\"fabrikam.com\",\"Fix\":null}]");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_explain(st, "unknown.example.net", true, &out));
    CHECK_HAS(out, "\"Hints\":[],\"Summary\":\"unknown.example.net is not allowed: no partner claims it\"");
    FREE(out);

    /* Errors: New's domain error, outputs untouched. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_explain(st, "not a domain", false, &out));
    CHECK_MSG("Domain 'not a domain' is not a valid domain: it contains whitespace");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_explain(st, "*.contoso.com", true, &out));
    CHECK_MSG("wildcard");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_explain(st, "", false, &out));
    CHECK_MSG("empty");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_explain(NULL, "contoso.com", false, &out));
    CHECK_MSG("store");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_explain(st, NULL, false, &out));
    CHECK_MSG("domain");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_explain(st, "contoso.com", false, NULL));
    CHECK_MSG("explanation_json_out");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_explain(st, BAD_UTF8, false, &out));
    CHECK_MSG("domain");
}

static void test_set(xmppfed_store *st) {
    char *out;

    /* A change set: only the named properties change. */
    EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
    long long before = revision_of(out);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_set(st, "Contoso.com.",
        "{\"Description\":\"Contoso Ltd\",\"ConnectionLimit\":50,\"SaslNegotiation\":\"optional\",\"PartnerType\":\"PublicVerified\","
        "\"ProxyFqdn\":\"sip.contoso.com\",\"EnableKeepAlive\":false}", &out));
    CHECK(out && strncmp(out, "{\"Partner\":{", 12) == 0);
    CHECK_HAS(out, "\"Identity\":\"contoso.com\"");
    CHECK_HAS(out, "\"Description\":\"Contoso Ltd\"");
    CHECK_HAS(out, "\"ConnectionLimit\":50");
    CHECK_HAS(out, "\"SaslNegotiation\":\"Optional\"");
    CHECK_HAS(out, "\"PartnerType\":\"PublicVerified\"");
    CHECK_HAS(out, "\"ProxyFqdn\":\"sip.contoso.com\"");
    CHECK_HAS(out, "\"EnableKeepAlive\":false");
    CHECK_HAS(out, "\"TlsNegotiation\":\"Required\"");
    CHECK_HAS(out, "\"SupportDialbackNegotiation\":true");
    CHECK_HAS(out, "\"Warnings\":[]");
    CHECK(revision_of(out) > before);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
    CHECK_HAS(out, "\"Description\":\"Contoso Ltd\"");
    CHECK_HAS(out, "\"ConnectionLimit\":50");
    FREE(out);

    /* A change that produces a warning reports it. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"TlsNegotiation\":\"Optional\"}", &out));
    CHECK_HAS(out, "\"Id\":\"SaslWithoutRequiredTls\"");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"TlsNegotiation\":\"Required\",\"SaslNegotiation\":\"Required\"}", &out));
    CHECK_HAS(out, "\"Id\":\"DialbackNotUsed\"");
    FREE(out);
    /* An empty change set is accepted. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{}", &out));
    CHECK_HAS(out, "\"Description\":\"Contoso Ltd\"");
    FREE(out);

    /* AdditionalDomains: a list replaces (canonical, no duplicates). */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":[\"a.contoso.com\",\"B.contoso.com\",\"b.contoso.com.\"]}", &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[\"a.contoso.com\",\"b.contoso.com\"]");
    FREE(out);
    /* {"Add":..} appends. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":{\"Add\":\"c.contoso.com\"}}", &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[\"a.contoso.com\",\"b.contoso.com\",\"c.contoso.com\"]");
    FREE(out);
    /* Adding one that is there already changes nothing. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":{\"add\":[\"A.CONTOSO.COM\"]}}", &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[\"a.contoso.com\",\"b.contoso.com\",\"c.contoso.com\"]");
    FREE(out);
    /* {"Remove":..} removes; missing items are ignored. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":{\"Remove\":[\"a.contoso.com\",\"nothere.com\"]}}", &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[\"b.contoso.com\",\"c.contoso.com\"]");
    FREE(out);
    /* Both: remove, then add. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":{\"Add\":\"d.contoso.com\",\"REMOVE\":\"b.contoso.com\"}}", &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[\"c.contoso.com\",\"d.contoso.com\"]");
    FREE(out);
    /* A non-empty Replace wins over Add and Remove. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com",
        "{\"AdditionalDomains\":{\"Replace\":\"z.contoso.com\",\"Add\":\"q.contoso.com\",\"Remove\":\"z.contoso.com\"}}", &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[\"z.contoso.com\"]");
    FREE(out);
    /* A plain string replaces. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":\"single.contoso.com\"}", &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[\"single.contoso.com\"]");
    FREE(out);
    /* An empty ProxyFqdn clears it. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"ProxyFqdn\":\"\"}", &out));
    CHECK_HAS(out, "\"ProxyFqdn\":\"\"");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"ProxyFqdn\":\"SIP.contoso.com.\"}", &out));
    CHECK_HAS(out, "\"ProxyFqdn\":\"sip.contoso.com\"");
    FREE(out);
    /* null clears. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":null}", &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[]");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":[\"x.contoso.com\"]}", &out));
    FREE(out);

    /* A modifier of the wrong form is an InvalidValue of AdditionalDomains; unknown fields and the key itself: JsonShape. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":{\"Append\":\"y.contoso.com\"}}", &out));
    CHECK_MSG("Append");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":{\"Add\":{\"x\":1}}}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":[1]}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_set(st, "contoso.com", "{\"Identity\":\"other.com\"}", &out));
    CHECK_MSG("Identity");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_set(st, "contoso.com", "{\"Domain\":\"other.com\"}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_set(st, "contoso.com", "{\"ConnectionLimit\":\"many\"}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_set(st, "contoso.com", "{\"TlsNegotiation\":\"Sometimes\"}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_set(st, "contoso.com", "[]", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_partner_set(st, "contoso.com", "{\"Description\":", &out));

    /* Validation of the result as a whole. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":{\"Add\":\"Contoso.com\"}}", &out));
    CHECK_MSG("primary");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_set(st, "contoso.com", "{\"ConnectionLimit\":0}", &out));
    CHECK_MSG("ConnectionLimit");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":{\"Remove\":\"*.com\"}}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_set(st, "contoso.com", "{\"ProxyFqdn\":\"nodots\"}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":[\"fabrikam.com\"]}", &out));
    CHECK_MSG("fabrikam.com");
    EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out, xmppfed_partner_set(st, "contoso.com", "{\"AdditionalDomains\":{\"Add\":\"na.fabrikam.com\"}}", &out));
    CHECK_MSG("na.fabrikam.com");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_NEGOTIATION, out, xmppfed_partner_set(st, "contoso.com",
        "{\"SupportDialbackNegotiation\":false,\"TlsNegotiation\":\"NotSupported\"}", &out));
    CHECK_MSG("contoso.com");
    /* None of the refused changes reached the store. */
    EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[\"x.contoso.com\"]");
    CHECK_HAS(out, "\"ConnectionLimit\":50");
    CHECK_HAS(out, "\"TlsNegotiation\":\"Required\"");
    CHECK_HAS(out, "\"SupportDialbackNegotiation\":true");
    CHECK_HAS(out, "\"ProxyFqdn\":\"sip.contoso.com\"");
    FREE(out);

    /* Missing or invalid identity. */
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_set(st, "Missing.com", "{\"Description\":\"x\"}", &out));
    CHECK_MSG("missing.com");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_set(st, "bad..com", "{\"Description\":\"x\"}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_set(st, "*", "{\"Description\":\"x\"}", &out));
}

static void test_set_instance(xmppfed_store *st) {
    char *out, *a, *b;

    /* The JSON from Get written back as it is. */
    EXPECT_OK(a, xmppfed_partner_get(st, "contoso.com", false, &a));
    long long rev_a = revision_of(a);
    CHECK(rev_a > 0);
    EXPECT_OK(out, xmppfed_partner_set_instance(st, a, NULL, false, &out));
    CHECK_HAS(out, "\"Identity\":\"contoso.com\"");
    CHECK_HAS(out, "\"Description\":\"Contoso Ltd\"");
    CHECK(revision_of(out) > rev_a);
    /* No negotiation setting in the change set: no warning about the object's combination. */
    CHECK_HAS(out, "\"Warnings\":[]");
    FREE(out);

    /* The store changes it; the old JSON is now stale and refused without changing anything. */
    EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"Description\":\"changed meanwhile\"}", &out));
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_STALE_INSTANCE, out, xmppfed_partner_set_instance(st, a, NULL, false, &out));
    CHECK_MSG("contoso.com");
    EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
    CHECK_HAS(out, "\"Description\":\"changed meanwhile\"");
    FREE(out);
    /* With force, it wins. */
    EXPECT_OK(out, xmppfed_partner_set_instance(st, a, NULL, true, &out));
    CHECK_HAS(out, "\"Description\":\"Contoso Ltd\"");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
    CHECK_HAS(out, "\"Description\":\"Contoso Ltd\"");
    FREE(out);
    FREE(a);

    /* A fresh object, edited, written back; spelling is canonicalized. */
    EXPECT_OK(b, xmppfed_partner_get(st, "contoso.com", false, &b));
    char *edited = replace_once(b, "\"ConnectionLimit\":50", "\"ConnectionLimit\":7");
    char *edited2 = replace_once(edited, "\"Identity\":\"contoso.com\"", "\"Identity\":\"CONTOSO.COM.\"");
    char *edited3 = replace_once(edited2, "\"AdditionalDomains\":[\"x.contoso.com\"]",
                                 "\"AdditionalDomains\":[\"X.contoso.com\",\"x.contoso.com.\",\"y.contoso.com\"]");
    CHECK(edited3 != NULL);
    if (edited3) {
        EXPECT_OK(out, xmppfed_partner_set_instance(st, edited3, NULL, false, &out));
        CHECK_HAS(out, "\"Identity\":\"contoso.com\"");
        CHECK_HAS(out, "\"ConnectionLimit\":7");
        CHECK_HAS(out, "\"AdditionalDomains\":[\"x.contoso.com\",\"y.contoso.com\"]");
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
        CHECK_HAS(out, "\"ConnectionLimit\":7");
        FREE(out);
    }
    free(edited); free(edited2); free(edited3);
    FREE(b);

    /* Invalid instances. */
    EXPECT_OK(b, xmppfed_partner_get(st, "contoso.com", false, &b));
    char *bad = replace_once(b, "\"Domain\":\"contoso.com\"", "\"Domain\":\"other.com\"");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_set_instance(st, bad, NULL, false, &out));
    CHECK_MSG("Domain");
    free(bad);
    bad = replace_once(b, "\"ConnectionLimit\":7", "\"ConnectionLimit\":0");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_partner_set_instance(st, bad, NULL, true, &out));
    free(bad);
    bad = replace_once(b, "\"Identity\":\"contoso.com\"", "\"Identity\":\"contoso..com\"");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_set_instance(st, bad, NULL, false, &out));
    free(bad);
    char *tmp = replace_once(b, "\"SupportDialbackNegotiation\":true", "\"SupportDialbackNegotiation\":false");
    bad = replace_once(tmp, "\"TlsNegotiation\":\"Required\"", "\"TlsNegotiation\":\"NotSupported\"");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_NEGOTIATION, out, xmppfed_partner_set_instance(st, bad, NULL, false, &out));
    CHECK_MSG("contoso.com");
    free(tmp); free(bad);
    bad = replace_once(b, "\"AdditionalDomains\":[", "\"AdditionalDomains\":[\"eu.fabrikam.com\",");
    EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out, xmppfed_partner_set_instance(st, bad, NULL, false, &out));
    CHECK_MSG("eu.fabrikam.com");
    free(bad);
    bad = replace_once(b, "{", "{\"Colour\":\"red\",");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_set_instance(st, bad, NULL, false, &out));
    CHECK_MSG("Colour");
    free(bad);
    bad = replace_once(b, "\"Revision\":", "\"Revision\":-");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_set_instance(st, bad, NULL, false, &out));
    free(bad);
    FREE(b);
    /* A whole object is required: a change set is not one. */
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_set_instance(st, "{\"Identity\":\"contoso.com\",\"Domain\":\"contoso.com\"}", NULL, false, &out));
    CHECK_MSG("missing field");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_partner_set_instance(st, "{\"Identity\":", NULL, false, &out));
    EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
    CHECK_HAS(out, "\"ConnectionLimit\":7");
    FREE(out);

    /* An in-memory object (Revision 0) is created by Set -Instance. */
    char *outcome;
    EXPECT_OK(outcome, xmppfed_partner_new(NULL, "{\"Identity\":\"memory.net\",\"Description\":\"draft\"}", true, &outcome));
    char *mem = outcome_partner(outcome);
    FREE(outcome);
    CHECK(mem != NULL && revision_of(mem) == 0);
    if (mem) {
        char *edited_mem = replace_once(mem, "\"Description\":\"draft\"", "\"Description\":\"final\"");
        EXPECT_OK(out, xmppfed_partner_set_instance(st, edited_mem, "{\"SaslNegotiation\":\"Required\"}", false, &out));
        CHECK_HAS(out, "\"Identity\":\"memory.net\"");
        CHECK_HAS(out, "\"Description\":\"final\"");
        CHECK(revision_of(out) > 0);
        CHECK_HAS(out, "\"Id\":\"DialbackNotUsed\"");
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st, "memory.net", false, &out));
        CHECK_HAS(out, "\"Description\":\"final\"");
        FREE(out);
        /* The same never-stored object again: it exists now. */
        EXPECT_FAIL(XMPPFED_RESULT_ALREADY_EXISTS, out, xmppfed_partner_set_instance(st, mem, NULL, false, &out));
        CHECK_MSG("memory.net");
        EXPECT_OK(out, xmppfed_partner_set_instance(st, mem, NULL, true, &out));
        CHECK_HAS(out, "\"Description\":\"draft\"");
        FREE(out);
        free(edited_mem);
        free(mem);
    }
    /* A Revision-0 object whose domain another partner claims. */
    EXPECT_OK(outcome, xmppfed_partner_new(NULL, "{\"Identity\":\"grab.net\",\"AdditionalDomains\":\"na.fabrikam.com\"}", true, &outcome));
    mem = outcome_partner(outcome);
    FREE(outcome);
    EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out, xmppfed_partner_set_instance(st, mem, NULL, false, &out));
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "grab.net", false, &out));
    free(mem);
}

static void test_remove(xmppfed_store *st) {
    char *out, *removed;

    /* The object as read before the removal: written back below as a stale instance. */
    EXPECT_OK(removed, xmppfed_partner_get(st, "fabrikam.com", false, &removed));
    /* Remove answers like every writer: the partner as it was, and the warnings. */
    EXPECT_OK(out, xmppfed_partner_remove(st, "Fabrikam.COM.", &out));
    CHECK(out && strncmp(out, "{\"Partner\":{", 12) == 0);
    CHECK_HAS(out, "\"Identity\":\"fabrikam.com\"");
    CHECK_HAS(out, "\"AdditionalDomains\":[\"eu.fabrikam.com\",\"na.fabrikam.com\"]");
    CHECK_HAS(out, "\"ConnectionLimit\":75");
    CHECK_HAS(out, "\"Warnings\":[]");
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "fabrikam.com", false, &out));
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_remove(st, "fabrikam.com", &out));
    CHECK_MSG("fabrikam.com");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_remove(st, "bad..com", &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_remove(st, "*", &out));

    /* Its domains are free again. */
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"eu.fabrikam.com\"}", false, &out));
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_remove(st, "eu.fabrikam.com", &out));
    FREE(out);

    /* An object read from the store, whose partner is gone since: NotFound without force. */
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_set_instance(st, removed, NULL, false, &out));
    CHECK_MSG("fabrikam.com");
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "fabrikam.com", false, &out));
    /* With force, the removed partner is written back. */
    EXPECT_OK(out, xmppfed_partner_set_instance(st, removed, NULL, true, &out));
    CHECK_HAS(out, "\"Identity\":\"fabrikam.com\"");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_remove(st, "fabrikam.com", &out));
    FREE(out);
    FREE(removed);

    EXPECT_OK(out, xmppfed_partner_remove(st, "memory.net", &out));
    CHECK_HAS(out, "\"Identity\":\"memory.net\"");
    FREE(out);
}

static void test_replica_and_handles(xmppfed_store *st, const char *root, const char *central, const char *replica, int folder) {
    char *out, *central_list, *local_list;
    xmppfed_partner_pages *pages;
    size_t count;

    /* The replica is refreshed after each commit: local reads see the same data. */
    EXPECT_OK(central_list, xmppfed_partner_list(st, NULL, false, &central_list));
    EXPECT_OK(local_list, xmppfed_partner_list(st, NULL, true, &local_list));
    CHECK(central_list && local_list && strcmp(central_list, local_list) == 0);
    FREE(local_list);
    CHECK_RC(xmppfed_store_replicate(st), XMPPFED_RESULT_OK);
    CHECK(xmppfed_last_error_message() == NULL);
    CHECK_RC(xmppfed_store_replicate(st), XMPPFED_RESULT_OK); /* idempotent */
    EXPECT_OK(local_list, xmppfed_partner_list(st, NULL, true, &local_list));
    CHECK(central_list && local_list && strcmp(central_list, local_list) == 0);
    FREE(local_list);
    EXPECT_OK(out, xmppfed_partner_get(st, "Contoso.com", true, &out));
    CHECK_HAS(out, "\"ConnectionLimit\":7");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_list(st, "*.org", true, &out));
    CHECK(count_of(out, "\"Identity\":") == 2);
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "fabrikam.com", true, &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_FILTER, out, xmppfed_partner_list(st, "[abc", true, &out));
    /* The same from the replica as binary records. */
    CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, true) == 5);
    CHECK(CHECK_PAGES_LIKE_LIST(st, "*.org", true) == 2);
    EXPECT_PAGES_FAIL(XMPPFED_RESULT_INVALID_FILTER, pages, count, xmppfed_partner_list_pages(st, "[abc", true, &pages, &count));

    /* A second handle on the same folders sees the first one's commits, and the other way round. */
    xmppfed_store *st2 = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(central, replica, &st2), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
        EXPECT_OK(out, xmppfed_partner_list(st2, NULL, false, &out));
        CHECK(central_list && out && strcmp(central_list, out) == 0);
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"second.net\"}", false, &out));
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st2, "second.net", false, &out));
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st2, "second.net", true, &out));
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_set(st2, "second.net", "{\"Description\":\"from handle 2\"}", &out));
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st, "second.net", false, &out));
        CHECK_HAS(out, "\"Description\":\"from handle 2\"");
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st, "second.net", true, &out));
        CHECK_HAS(out, "\"Description\":\"from handle 2\"");
        FREE(out);
        /* Rules are checked against the other handle's commits too. */
        EXPECT_FAIL(XMPPFED_RESULT_ALREADY_EXISTS, out, xmppfed_partner_new(st2, "{\"Identity\":\"contoso.com\"}", false, &out));
        /* A stale instance across handles. */
        char *old;
        EXPECT_OK(old, xmppfed_partner_get(st, "second.net", false, &old));
        EXPECT_OK(out, xmppfed_partner_set(st2, "second.net", "{\"ConnectionLimit\":3}", &out));
        FREE(out);
        EXPECT_FAIL(XMPPFED_RESULT_STALE_INSTANCE, out, xmppfed_partner_set_instance(st, old, NULL, false, &out));
        CHECK_MSG("second.net");
        FREE(old);
        EXPECT_OK(out, xmppfed_partner_remove(st2, "second.net", &out));
        FREE(out);
        EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "second.net", false, &out));
        EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "second.net", true, &out));
        xmppfed_store_close(st2);
    }
    FREE(central_list);

    /* A handle with its own replica folder: its replica follows the central store only when it
     * commits or replicates. Before that there is no copy, which is said, not shown as a list. */
    char *replica3 = make_dir(root, "replica3");
    xmppfed_store *st3 = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(central, replica3, &st3), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_list(st3, NULL, true, &out));
        CHECK_MSG("no local replica");
        EXPECT_PAGES_FAIL(XMPPFED_RESULT_STORE_IO, pages, count, xmppfed_partner_list_pages(st3, NULL, true, &pages, &count));
        CHECK_MSG("no local replica");
        CHECK(CHECK_PAGES_LIKE_LIST(st3, "*.org", true) == -1);
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_get(st3, "contoso.com", true, &out));
        CHECK_RC(xmppfed_store_replicate(st3), XMPPFED_RESULT_OK);
        EXPECT_OK(out, xmppfed_partner_get(st3, "contoso.com", true, &out));
        CHECK_HAS(out, "\"ConnectionLimit\":7");
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"ConnectionLimit\":8}", &out));
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st3, "contoso.com", true, &out));
        CHECK_HAS(out, "\"ConnectionLimit\":7");
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_get(st3, "contoso.com", false, &out));
        CHECK_HAS(out, "\"ConnectionLimit\":8");
        FREE(out);
        CHECK_RC(xmppfed_store_replicate(st3), XMPPFED_RESULT_OK);
        EXPECT_OK(out, xmppfed_partner_get(st3, "contoso.com", true, &out));
        CHECK_HAS(out, "\"ConnectionLimit\":8");
        FREE(out);

        EXPECT_OK(out, xmppfed_store_paths(st3, &out));
        CHECK_HAS(out, "replica3\"");
        FREE(out);
        xmppfed_store_close(st3);
    }
    free(replica3);

    /* The central store unreachable: local reads still work, central reads fail with StoreIo.
     * (A folder moved away; a database's outage is tested in tests/postgres_store.rs.) */
    if (!folder) return;
    char *moved = xasprintf("%s/central-moved", root);
    if (CHECK(rename(central, moved) == 0)) {
        EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", true, &out));
        CHECK_HAS(out, "\"ConnectionLimit\":8");
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_list(st, NULL, true, &out));
        CHECK(count_of(out, "\"Identity\":") == 5);
        FREE(out);
        CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, true) == 5);
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_get(st, "contoso.com", false, &out));
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_list(st, NULL, false, &out));
        EXPECT_PAGES_FAIL(XMPPFED_RESULT_STORE_IO, pages, count, xmppfed_partner_list_pages(st, NULL, false, &pages, &count));
        CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, false) == -1);
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_set(st, "contoso.com", "{\"ConnectionLimit\":9}", &out));
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_new(st, "{\"Identity\":\"offline.net\"}", false, &out));
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_remove(st, "contoso.com", &out));
        EXPECT_FAIL_NOOUT(XMPPFED_RESULT_STORE_IO, xmppfed_store_replicate(st));
        /* The replica was not emptied by the failed refresh. */
        EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", true, &out));
        FREE(out);
        CHECK(rename(moved, central) == 0);
        EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
        CHECK_HAS(out, "\"ConnectionLimit\":8");
        FREE(out);
    }
    free(moved);
}

/* The store's writer lock, taken as another process would. On Unix it is the store folder's
 * (flock; a file a clean-up tool could delete would not do); on Windows one byte of the folder's
 * partners.lock file, held open without FILE_SHARE_DELETE so that it cannot be deleted. */
#ifdef _WIN32
typedef HANDLE store_lock;
#define NO_STORE_LOCK INVALID_HANDLE_VALUE

static store_lock take_store_lock(const char *central) {
    char *path = xasprintf("%s\\partners.lock", central);
    HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    free(path);
    /* The byte the library locks: 1 GiB, beyond the holder's note, which stays readable. */
    OVERLAPPED lock_byte = {0};
    lock_byte.Offset = 1u << 30;
    if (h != INVALID_HANDLE_VALUE &&
        !LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &lock_byte)) {
        CloseHandle(h);
        h = INVALID_HANDLE_VALUE;
    }
    return h;
}

static void release_store_lock(store_lock h) {
    CloseHandle(h); /* closing the handle releases its lock */
}
#else
typedef int store_lock;
#define NO_STORE_LOCK (-1)

static store_lock take_store_lock(const char *central) {
    int fd = open(central, O_RDONLY | O_DIRECTORY);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void release_store_lock(store_lock fd) {
    flock(fd, LOCK_UN);
    close(fd);
}
#endif

/* Another process (here: another open file description) holds the store lock: writers time out
 * with StoreLocked, readers are not blocked. */
static void test_lock(const char *central, const char *replica) {
    char *out;
    setenv("XMPPFED_LOCK_TIMEOUT_MS", "150", 1);
    xmppfed_store *st = STORE_SENTINEL;
    int rc = CHECK_RC(xmppfed_store_open(central, replica, &st), XMPPFED_RESULT_OK);
    unsetenv("XMPPFED_LOCK_TIMEOUT_MS");
    if (rc != XMPPFED_RESULT_OK) return;

    store_lock lock = take_store_lock(central);
    if (CHECK(lock != NO_STORE_LOCK)) {
        EXPECT_FAIL(XMPPFED_RESULT_STORE_LOCKED, out, xmppfed_partner_set(st, "contoso.com", "{\"ConnectionLimit\":9}", &out));
        CHECK_MSG("store lock");
        CHECK_MSG("held by process");
        EXPECT_FAIL(XMPPFED_RESULT_STORE_LOCKED, out, xmppfed_partner_new(st, "{\"Identity\":\"locked.net\"}", false, &out));
        EXPECT_FAIL(XMPPFED_RESULT_STORE_LOCKED, out, xmppfed_partner_remove(st, "contoso.com", &out));
        EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
        CHECK_HAS(out, "\"ConnectionLimit\":8");
        FREE(out);
        EXPECT_OK(out, xmppfed_partner_list(st, NULL, true, &out));
        FREE(out);
        release_store_lock(lock);
        EXPECT_OK(out, xmppfed_partner_set(st, "contoso.com", "{\"ConnectionLimit\":9}", &out));
        FREE(out);
    }
    xmppfed_store_close(st);
}

/* Every pointer argument NULL, every string argument not UTF-8. */
static void test_null_and_utf8(xmppfed_store *st) {
    char *out;

    /* store_paths */
    EXPECT_OK(out, xmppfed_store_paths(st, &out));
    CHECK_HAS(out, "{\"Central\":\"");
    CHECK_HAS(out, "\"Replica\":\"");
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_paths(NULL, &out));
    CHECK_MSG("store");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_store_paths(st, NULL));
    CHECK_MSG("paths_json_out");

    /* environment_names: what a host passing its own environment collects */
    EXPECT_OK(out, xmppfed_environment_names(&out));
    CHECK(out != NULL && strcmp(out, "[\"XMPPFED_STORE\",\"XMPPFED_REPLICA\",\"XMPPFED_LOCK_TIMEOUT_MS\"]") == 0);
    FREE(out);
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_environment_names(NULL));
    CHECK_MSG("names_json_out");

    /* partner_new */
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_new(st, NULL, false, &out));
    CHECK_MSG("partner_json");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_new(NULL, NULL, true, &out));
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_new(NULL, "{\"Identity\":\"n.com\"}", false, &out));
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_new(st, "{\"Identity\":\"n.com\"}", false, NULL));
    CHECK_MSG("outcome_json_out");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_new(NULL, "{\"Identity\":\"n.com\"}", true, NULL));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_new(st, BAD_UTF8, false, &out));
    CHECK_MSG("partner_json");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_new(st, "{\"Identity\":\"\xff\xfe.com\"}", false, &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_new(NULL, "{\"Identity\":\"\xc3(.com\"}", true, &out));

    /* partner_get */
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_get(NULL, "contoso.com", false, &out));
    CHECK_MSG("store");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_get(NULL, "contoso.com", true, &out));
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_get(st, NULL, false, &out));
    CHECK_MSG("identity");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_get(st, "contoso.com", false, NULL));
    CHECK_MSG("partner_json_out");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_get(st, BAD_UTF8, false, &out));
    CHECK_MSG("identity");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_get(st, "contoso.com\xff", true, &out));

    /* partner_list (filter may be NULL) */
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_list(NULL, NULL, false, &out));
    CHECK_MSG("store");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_list(NULL, "*", true, &out));
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_list(st, NULL, false, NULL));
    CHECK_MSG("partners_json_out");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_list(st, BAD_UTF8, false, &out));
    CHECK_MSG("filter");

    /* partner_list_pages: refused as partner_list refuses a NULL out pointer (NullArgument), for
     * any NULL pointer; every failure leaves the out pointers it was given untouched. */
    xmppfed_result list_null_out = xmppfed_partner_list(st, NULL, false, NULL);
    CHECK_RC(list_null_out, XMPPFED_RESULT_NULL_ARGUMENT);
    xmppfed_partner_pages *pages;
    size_t count;
    EXPECT_PAGES_FAIL(list_null_out, pages, count, xmppfed_partner_list_pages(NULL, NULL, false, &pages, &count));
    CHECK_MSG("store");
    EXPECT_PAGES_FAIL(list_null_out, pages, count, xmppfed_partner_list_pages(NULL, "*", true, &pages, &count));
    CHECK_MSG("store");
    count = 12345;
    EXPECT_FAIL_NOOUT(list_null_out, xmppfed_partner_list_pages(st, NULL, false, NULL, &count));
    CHECK_MSG("pages_out");
    CHECK(count == 12345); /* outputs are written only on success */
    pages = PAGES_UNSET;
    EXPECT_FAIL_NOOUT(list_null_out, xmppfed_partner_list_pages(st, NULL, false, &pages, NULL));
    CHECK_MSG("count_out");
    /* Nothing allocated (valgrind would report it), and the pages pointer untouched. */
    CHECK(pages == PAGES_UNSET);
    EXPECT_FAIL_NOOUT(list_null_out, xmppfed_partner_list_pages(st, NULL, true, NULL, NULL));
    EXPECT_FAIL_NOOUT(list_null_out, xmppfed_partner_list_pages(NULL, NULL, false, NULL, NULL));
    EXPECT_PAGES_FAIL(XMPPFED_RESULT_INVALID_UTF8, pages, count, xmppfed_partner_list_pages(st, BAD_UTF8, false, &pages, &count));
    CHECK_MSG("filter");
    CHECK(CHECK_PAGES_LIKE_LIST(st, BAD_UTF8, true) == -1);
    CHECK(CHECK_PAGES_LIKE_LIST(NULL, "*", false) == -1);

    /* partner_pages_next: NULL pages or a NULL out pointer is NullArgument naming it, with the
     * other out pointer untouched; and it takes no page: the pages read afterwards still hold
     * the whole list. */
    const uint8_t *page = PAGE_UNSET;
    size_t page_len = 12345;
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_pages_next(NULL, &page, &page_len));
    CHECK_MSG("'pages'");
    CHECK(page == PAGE_UNSET && page_len == 12345);
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_pages_next(NULL, NULL, NULL));
    EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, NULL, false, &pages, &count));
    if (pages) {
        EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_pages_next(pages, NULL, &page_len));
        CHECK_MSG("records_out");
        CHECK(page_len == 12345);
        EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_pages_next(pages, &page, NULL));
        CHECK_MSG("records_len_out");
        CHECK(page == PAGE_UNSET);
        EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_pages_next(pages, NULL, NULL));
        char *json;
        EXPECT_OK(json, xmppfed_partner_list(st, NULL, false, &json));
        struct paged pg = {0};
        CHECK(READ_PAGES(pages, count, &pg, SIZE_MAX));
        char *again = paged_as_json(&pg);
        CHECK(count >= 1 && again && json && strcmp(again, json) == 0);
        free(again);
        free_paged(&pg);
        FREE(json);
        /* ... after the end too. */
        EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_pages_next(pages, &page, NULL));
        CHECK(page == PAGE_UNSET);
        FREE_PAGES(pages);
    }
    /* pages_free accepts NULL; bytes_free accepts NULL with any length. */
    xmppfed_partner_pages_free(NULL);
    xmppfed_bytes_free(NULL, 0);
    xmppfed_bytes_free(NULL, 8);
    CHECK(1);

    /* partner_set */
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_set(NULL, "contoso.com", "{}", &out));
    CHECK_MSG("store");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_set(st, NULL, "{}", &out));
    CHECK_MSG("identity");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_set(st, "contoso.com", NULL, &out));
    CHECK_MSG("changes_json");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_set(st, "contoso.com", "{}", NULL));
    CHECK_MSG("outcome_json_out");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_set(st, BAD_UTF8, "{}", &out));
    CHECK_MSG("identity");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_set(st, "contoso.com", "{\"Description\":\"\xff\xfe\"}", &out));
    CHECK_MSG("changes_json");

    /* partner_set_instance */
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_set_instance(st, NULL, NULL, false, &out));
    CHECK_MSG("instance_json");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_set_instance(st, NULL, NULL, true, &out));
    char *instance;
    EXPECT_OK(instance, xmppfed_partner_get(st, "contoso.com", false, &instance));
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_set_instance(NULL, instance, NULL, false, &out));
    CHECK_MSG("store");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_set_instance(st, instance, NULL, false, NULL));
    CHECK_MSG("outcome_json_out");
    char *bad_instance = replace_once(instance, "\"Description\":\"", "\"Description\":\"\xff\xfe");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_set_instance(st, bad_instance, NULL, false, &out));
    CHECK_MSG("instance_json");
    free(bad_instance);
    /* None of the failures above changed it: the instance is still current. */
    EXPECT_OK(out, xmppfed_partner_set_instance(st, instance, NULL, false, &out));
    FREE(out);
    FREE(instance);

    /* partner_remove */
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_remove(NULL, "contoso.com", &out));
    CHECK_MSG("store");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_remove(st, NULL, &out));
    CHECK_MSG("identity");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_remove(st, "contoso.com", NULL));
    CHECK_MSG("outcome_json_out");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_partner_remove(st, BAD_UTF8, &out));
    CHECK_MSG("identity");
    EXPECT_OK(out, xmppfed_partner_get(st, "contoso.com", false, &out));
    FREE(out);

    /* store_replicate */
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_store_replicate(NULL));
    CHECK_MSG("store");
}

/* Threads: the last error is per thread, and one handle may be used from several at once. */
struct thread_job {
    xmppfed_store *store;
    int index;
    int created;          /* partners created successfully */
    int saw_null_at_start;
    int error_after_fail; /* message non-NULL after its own failure */
};

static void *thread_main(void *arg) {
    struct thread_job *job = arg;
    job->saw_null_at_start = xmppfed_last_error_message() == NULL;
    for (int i = 0; i < 5; i++) {
        char *json = xasprintf("{\"Identity\":\"t%d-%d.threads.net\"}", job->index, i);
        char *out = NULL;
        if (xmppfed_partner_new(job->store, json, false, &out) == XMPPFED_RESULT_OK) {
            job->created++;
            xmppfed_string_free(out);
        }
        free(json);
    }
    char *out = SENTINEL;
    job->error_after_fail = xmppfed_partner_get(job->store, "nobody.threads.net", false, &out) == XMPPFED_RESULT_NOT_FOUND
                            && out == SENTINEL && xmppfed_last_error_message() != NULL;
    return NULL;
}

static void test_threads(xmppfed_store *st) {
    char *out;
    /* Main thread fails: the threads start with no error of their own. */
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "nobody.net", false, &out));
    enum { N = 4 };
    pthread_t threads[N];
    struct thread_job jobs[N];
    int started = 0;
    for (int i = 0; i < N; i++) {
        jobs[i] = (struct thread_job){.store = st, .index = i};
        if (CHECK(pthread_create(&threads[i], NULL, thread_main, &jobs[i]) == 0)) started++;
        else break;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        CHECK(jobs[i].created == 5);
        CHECK(jobs[i].saw_null_at_start);
        CHECK(jobs[i].error_after_fail);
    }
    /* The main thread's message is its own, untouched by the threads. */
    CHECK_MSG("nobody.net");
    EXPECT_OK(out, xmppfed_partner_list(st, "*.threads.net", false, &out));
    CHECK(count_of(out, "\"Identity\":") == 5 * started);
    FREE(out);
    for (int t = 0; t < started; t++) {
        for (int i = 0; i < 5; i++) {
            char *id = xasprintf("t%d-%d.threads.net", t, i);
            EXPECT_OK(out, xmppfed_partner_remove(st, id, &out));
            FREE(out);
            free(id);
        }
    }
}

/* The whole contents of a file (NULL if it cannot be read); *len receives its length. */
static char *read_all(const char *path, long *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *bytes = malloc((size_t)*len + 1);
    if (bytes && fread(bytes, 1, (size_t)*len, f) != (size_t)*len) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    return bytes;
}

/* The central store's revision, as the status reports it (-1 if it cannot be read). */
static long long central_revision(xmppfed_store *st) {
    char *status = NULL;
    long long revision = -1;
    if (xmppfed_store_status(st, &status) == XMPPFED_RESULT_OK) {
        const char *at = strstr(status, "\"CentralRevision\":");
        if (at) revision = strtoll(at + strlen("\"CentralRevision\":"), NULL, 10);
        xmppfed_string_free(status);
    }
    return revision;
}

/* Previews decide like the writers against the current state and write nothing: no commit, and
 * for a folder store (`central` not NULL) the log file byte for byte. */
static void test_preview(xmppfed_store *st, const char *central) {
    char *out;
    char *log = central ? current_log(central) : NULL;
    long before_len = 0, after_len = 0;
    char *before = log ? read_all(log, &before_len) : NULL;
    CHECK(!central || before != NULL);
    long long revision_before = central_revision(st);
    CHECK(revision_before > 0);

    EXPECT_OK(out, xmppfed_partner_new_preview(st, "{\"Identity\":\"Preview.example\"}", &out));
    CHECK_HAS(out, "\"Identity\":\"preview.example\"");
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_ALREADY_EXISTS, out, xmppfed_partner_new_preview(st, "{\"Identity\":\"contoso.com\"}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_DOMAIN, out, xmppfed_partner_new_preview(st, "{\"Identity\":\"bad..com\"}", &out));
    EXPECT_OK(out, xmppfed_partner_set_preview(st, "contoso.com", "{\"Description\":\"would be\"}", &out));
    CHECK_HAS(out, "\"Description\":\"would be\"");
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_set_preview(st, "nothere.example", "{}", &out));
    char *read;
    EXPECT_OK(read, xmppfed_partner_get(st, "contoso.com", false, &read));
    EXPECT_OK(out, xmppfed_partner_set_instance_preview(st, read, "{\"EnableKeepAlive\":false}", false, &out));
    CHECK_HAS(out, "\"EnableKeepAlive\":false");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_remove_preview(st, "CONTOSO.com", &out));
    CHECK_HAS(out, "\"Identity\":\"contoso.com\"");
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_remove_preview(st, "nothere.example", &out));
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_partner_remove_preview(st, "contoso.com", NULL));
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_partner_new_preview(NULL, "{\"Identity\":\"a.com\"}", &out));

    CHECK(central_revision(st) == revision_before);
    char *after = log ? read_all(log, &after_len) : NULL;
    CHECK(!central || (after && before && after_len == before_len && memcmp(after, before, (size_t)before_len) == 0));

    /* Set -Instance with property changes applied to the instance: committed for real. */
    EXPECT_OK(out, xmppfed_partner_set_instance(st, read, "{\"ConnectionLimit\":7}", false, &out));
    CHECK_HAS(out, "\"ConnectionLimit\":7");
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_STALE_INSTANCE, out, xmppfed_partner_set_instance(st, read, "{\"ConnectionLimit\":8}", false, &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_partner_set_instance(st, read, "{\"Identity\":\"x.com\"}", true, &out));
    FREE(read);
    free(before);
    free(after);
    free(log);
}

/* The replication status: a fresh store, after a commit, and with the central folder gone. */
static void test_status(const char *root) {
    char *out;
    char *central = make_dir(root, "status-central");
    char *replica = xasprintf("%s/status-replica", root);
    xmppfed_store *st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(central, replica, &st), XMPPFED_RESULT_OK) != XMPPFED_RESULT_OK) return;
    EXPECT_OK(out, xmppfed_store_status(st, &out));
    CHECK_HAS(out, "\"CentralRevision\":0");
    CHECK_HAS(out, "\"ReplicaRevision\":null");
    CHECK_HAS(out, "\"IsCurrent\":false");
    CHECK_HAS(out, "Invoke-CsXmppAllowedPartnerReplication");
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"status.example\"}", false, &out));
    FREE(out);
    EXPECT_OK(out, xmppfed_store_status(st, &out));
    CHECK_HAS(out, "\"CentralRevision\":1");
    CHECK_HAS(out, "\"ReplicaRevision\":1");
    CHECK_HAS(out, "\"IsCurrent\":true");
    CHECK_HAS(out, "\"CentralError\":null");
    FREE(out);
    char *moved = xasprintf("%s/status-moved", root);
    CHECK(rename(central, moved) == 0);
    EXPECT_OK(out, xmppfed_store_status(st, &out));
    CHECK_HAS(out, "\"CentralRevision\":null");
    CHECK_HAS(out, "\"IsCurrent\":false");
    CHECK_HAS(out, "status-central");
    FREE(out);
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_store_status(st, NULL));
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_status(NULL, &out));
    xmppfed_store_close(st);
    free(moved);
    free(replica);
    free(central);
}

/* The XMPPFED_* settings from a JSON snapshot instead of the process environment. */
static void test_open_with_environment(const char *root) {
    char *out;
    char *central = make_dir(root, "env-central");
    char *json_central = json_path(central), *json_root = json_path(root);
    char *env = xasprintf("{\"XMPPFED_STORE\":\"%s\",\"XMPPFED_REPLICA\":\"%s/env-replica\",\"XMPPFED_LOCK_TIMEOUT_MS\":\"\"}", json_central, json_root);
    xmppfed_store *st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open_with_environment(NULL, NULL, env, &st), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
        EXPECT_OK(out, xmppfed_store_paths(st, &out));
        CHECK_HAS(out, "env-central");
        CHECK_HAS(out, "env-replica");
        FREE(out);
        xmppfed_store_close(st);
    }
    /* A missing folder named there is reported, never replaced by the default store. */
    char *missing = xasprintf("{\"XMPPFED_STORE\":\"%s/env-typo\"}", json_root);
    st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open_with_environment(NULL, NULL, missing, &st), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
        EXPECT_FAIL(XMPPFED_RESULT_STORE_IO, out, xmppfed_partner_new(st, "{\"Identity\":\"a.com\"}", false, &out));
        CHECK_MSG("env-typo");
        xmppfed_store_close(st);
    }
    st = STORE_SENTINEL;
    CHECK_RC(xmppfed_store_open_with_environment(NULL, NULL, "{\"XMPPFED_STORE\":5}", &st), XMPPFED_RESULT_JSON_SHAPE);
    CHECK(st == STORE_SENTINEL);
    CHECK_RC(xmppfed_store_open_with_environment(NULL, NULL, NULL, &st), XMPPFED_RESULT_NULL_ARGUMENT);
    char *bad_timeout = xasprintf("{\"XMPPFED_STORE\":\"%s\",\"XMPPFED_LOCK_TIMEOUT_MS\":\"soon\"}", json_central);
    CHECK_RC(xmppfed_store_open_with_environment(NULL, NULL, bad_timeout, &st), XMPPFED_RESULT_INVALID_VALUE);
    free(bad_timeout);
    CHECK(st == STORE_SENTINEL);
    free(missing);
    free(env);
    free(json_central);
    free(json_root);
    free(central);
}

/* ------------------------------------------------------------------------------------------ */
/* History, export and import                                                                  */
/* ------------------------------------------------------------------------------------------ */

/* The number after `key` (e.g. "\"CommittedRevision\":") in `json`, or -1 (also for null). */
static int starts_with(const char *s, const char *prefix) {
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static long long number_after(const char *json, const char *key) {
    const char *at = json ? strstr(json, key) : NULL;
    if (!at) return -1;
    at += strlen(key);
    return (*at >= '0' && *at <= '9') ? strtoll(at, NULL, 10) : -1;
}

/* The JSON array after `key` (e.g. "\"Rejected\":"), malloc'd, brackets included (no nested
 * arrays need to be told apart: strings are skipped). NULL if absent. */
static char *array_after(const char *json, const char *key) {
    const char *at = json ? strstr(json, key) : NULL;
    if (!at) return NULL;
    at += strlen(key);
    if (*at != '[') return NULL;
    int depth = 0, in_string = 0;
    const char *p = at;
    for (; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1]) p++;
            else if (*p == '"') in_string = 0;
        } else if (*p == '"') {
            in_string = 1;
        } else if (*p == '[' || *p == '{') {
            depth++;
        } else if ((*p == ']' || *p == '}') && --depth == 0) {
            break;
        }
    }
    if (!*p) return NULL;
    size_t n = (size_t)(p - at) + 1;
    char *d = malloc(n + 1);
    if (!d) { perror("malloc"); exit(2); }
    memcpy(d, at, n);
    d[n] = '\0';
    return d;
}

/* How many history entries a history document holds (each begins with {"Revision":). */
static int entries_in(const char *history) {
    return count_of(history, "{\"Revision\":");
}

/* The history entries of commit `revision`. */
static int entries_of_commit(const char *history, long long revision) {
    char *needle = xasprintf("{\"Revision\":%lld,\"At\":", revision);
    int n = count_of(history, needle);
    free(needle);
    return n;
}

/* The operating system's name for this account and this machine, as the history records them. */
static void os_user_and_machine(char *user, size_t user_size, char *machine, size_t machine_size) {
    user[0] = machine[0] = '\0';
#ifdef _WIN32
    DWORD n = (DWORD)user_size;
    if (!GetUserNameA(user, &n)) user[0] = '\0';
    n = (DWORD)machine_size;
    if (!GetComputerNameA(machine, &n)) machine[0] = '\0';
#else
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name) snprintf(user, user_size, "%s", pw->pw_name);
    if (gethostname(machine, machine_size - 1) != 0) machine[0] = '\0';
    machine[machine_size - 1] = '\0';
#endif
}

/* Make the store empty in one import (RemoveMissing with an empty input): the known starting
 * point of the checks below, whatever earlier checks left. */
static void empty_by_import(xmppfed_store *st) {
    char *out, *list;
    EXPECT_OK(list, xmppfed_partner_list(st, NULL, false, &list));
    int before = count_of(list, "\"Identity\":");
    FREE(list);
    long long revision = central_revision(st);
    EXPECT_OK(out, xmppfed_store_import(st, "[]", "{\"RemoveMissing\":true}", &out));
    CHECK(count_of(out, "\"Identity\":") == before);
    if (before > 0) {
        CHECK(number_after(out, "\"CommittedRevision\":") == revision + 1);
        CHECK(central_revision(st) == revision + 1);
    } else {
        CHECK_HAS(out, "\"CommittedRevision\":null");
    }
    FREE(out);
    EXPECT_OK(list, xmppfed_partner_list(st, NULL, false, &list));
    CHECK(list && strcmp(list, "[]") == 0);
    FREE(list);
}

/* New, Set and Remove each leave one history entry, newest first, with who, when, the partner
 * before and after, and the properties that changed; the query's filters. */
static void test_history(xmppfed_store *st) {
    char *out, *h;
#ifdef _WIN32
    /* The machine comes from the operating system, not from a variable any process can set. */
    char computername[256] = "";
    DWORD cn = GetEnvironmentVariableA("COMPUTERNAME", computername, sizeof computername);
    SetEnvironmentVariableA("COMPUTERNAME", "spoofed-machine");
#endif

    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"H1.history.example\",\"Description\":\"one\"}", false, &out));
    long long created = revision_of(out);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_set(st, "h1.history.example", "{\"Description\":\"two\",\"ConnectionLimit\":7}", &out));
    long long changed = revision_of(out);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"h2.history.example\"}", false, &out));
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_remove(st, "h1.history.example", &out));
    FREE(out);
    long long removed = central_revision(st);
    CHECK(created > 0 && changed == created + 1 && removed == changed + 2);

    EXPECT_OK(h, xmppfed_store_history(st, "{\"Identity\":\"h1.history.example\"}", &h));
    CHECK(h && h[0] == '[');
    CHECK(entries_in(h) == 3);
    /* Newest first: Remove, Set, Create. */
    char *head = xasprintf("[{\"Revision\":%lld,\"At\":\"", removed);
    CHECK(starts_with(h, head));
    free(head);
    const char *rm = h ? strstr(h, "\"Operation\":\"Remove\"") : NULL;
    const char *set = h ? strstr(h, "\"Operation\":\"Set\"") : NULL;
    const char *create = h ? strstr(h, "\"Operation\":\"Create\"") : NULL;
    CHECK(rm && set && create && rm < set && set < create);
    /* The removal: the partner before, nothing after, every property going. */
    CHECK_HAS(rm, "\"Identity\":\"h1.history.example\",\"Before\":{\"Identity\":\"h1.history.example\"");
    CHECK_HAS(rm, "\"Description\":\"two\"");
    CHECK_HAS(rm, "\"After\":null,\"Changes\":[{\"Property\":\"Domain\",\"Old\":\"h1.history.example\",\"New\":null}");
    /* The Set: before and after, and exactly the two properties it changed, as text. */
    char *set_entry = set ? xstrdup(set) : NULL;
    if (set_entry && create) set_entry[create - set] = '\0';
    CHECK_HAS(set_entry, "\"Changes\":[{\"Property\":\"Description\",\"Old\":\"one\",\"New\":\"two\"},"
                         "{\"Property\":\"ConnectionLimit\",\"Old\":\"20\",\"New\":\"7\"}]");
    CHECK(count_of(set_entry, "\"Property\":") == 2);
    char *before_rev = xasprintf("\"Before\":{\"Identity\":\"h1.history.example\"");
    CHECK_HAS(set_entry, before_rev);
    free(before_rev);
    char *after_rev = xasprintf("\"ConnectionLimit\":7,\"Revision\":%lld}", changed);
    CHECK_HAS(set_entry, after_rev);
    free(after_rev);
    free(set_entry);
    /* The creation: nothing before. */
    CHECK_HAS(create, "\"Before\":null,\"After\":{\"Identity\":\"h1.history.example\"");
    CHECK_HAS(create, "\"Changes\":[{\"Property\":\"Domain\",\"Old\":null,\"New\":\"h1.history.example\"}");
    /* Who and where: the operating system's names for this account and machine. */
    char user[256], machine[256];
    os_user_and_machine(user, sizeof user, machine, sizeof machine);
    if (CHECK(user[0] != '\0' && machine[0] != '\0')) {
        char *who = xasprintf("\"User\":\"%s\",\"Machine\":\"%s\",\"Operation\":", user, machine);
        CHECK(count_of(h, who) == 3);
        free(who);
    }
    CHECK_HAS(h, "\"At\":\"20");
    CHECK_HAS(h, "Z\",\"User\":");
    CHECK_LACKS(h, "spoofed-machine");
    FREE(h);
#ifdef _WIN32
    SetEnvironmentVariableA("COMPUTERNAME", cn > 0 && cn < sizeof computername ? computername : NULL);
#endif

    /* Filters: a wildcard on Identity (case-insensitive), First, and a time window (inclusive). */
    EXPECT_OK(h, xmppfed_store_history(st, "{\"Identity\":\"H?.HISTORY.*\"}", &h));
    CHECK(entries_in(h) == 4);
    FREE(h);
    EXPECT_OK(h, xmppfed_store_history(st, "{\"Identity\":\"*.history.example\",\"First\":2}", &h));
    CHECK(entries_in(h) == 2);
    CHECK_HAS(h, "\"Operation\":\"Remove\"");
    CHECK_HAS(h, "\"Identity\":\"h2.history.example\"");
    FREE(h);
    EXPECT_OK(h, xmppfed_store_history(st, "{\"First\":0}", &h));
    CHECK(h && strcmp(h, "[]") == 0);
    FREE(h);
    EXPECT_OK(h, xmppfed_store_history(st, "{\"Identity\":\"nobody.example\"}", &h));
    CHECK(h && strcmp(h, "[]") == 0);
    FREE(h);
    EXPECT_OK(h, xmppfed_store_history(st, "{\"Identity\":\"h1.history.example\",\"After\":\"2000-01-01T00:00:00Z\",\"Before\":\"2999-12-31T23:59:59+01:00\"}", &h));
    CHECK(entries_in(h) == 3);
    FREE(h);
    EXPECT_OK(h, xmppfed_store_history(st, "{\"Before\":\"2000-01-01T00:00:00Z\"}", &h));
    CHECK(h && strcmp(h, "[]") == 0);
    FREE(h);
    EXPECT_OK(h, xmppfed_store_history(st, "{\"After\":\"2999-01-01T00:00:00.5Z\"}", &h));
    CHECK(h && strcmp(h, "[]") == 0);
    FREE(h);
    /* The newest entry's own time, as both ends of the window: it is inside. */
    EXPECT_OK(h, xmppfed_store_history(st, "{\"First\":1}", &h));
    CHECK(entries_in(h) == 1);
    const char *at = h ? strstr(h, "\"At\":\"") : NULL;
    if (CHECK(at != NULL && strlen(at) > 26)) {
        char when[21];
        memcpy(when, at + 6, 20);
        when[20] = '\0';
        char *window = xasprintf("{\"After\":\"%s\",\"Before\":\"%s\",\"Identity\":\"h1.*\"}", when, when);
        char *w;
        EXPECT_OK(w, xmppfed_store_history(st, window, &w));
        CHECK(entries_in(w) >= 1);
        CHECK_HAS(w, "\"Operation\":\"Remove\"");
        FREE(w);
        free(window);
    }
    FREE(h);
    /* NULL: everything. */
    EXPECT_OK(h, xmppfed_store_history(st, NULL, &h));
    CHECK(entries_in(h) >= 4);
    FREE(h);

    /* Bad queries: which rule, in clear words; the output untouched. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_store_history(st, "{\"After\":\"yesterday\"}", &out));
    CHECK_MSG("After");
    CHECK_MSG("'yesterday' is not a date and time (RFC 3339");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_store_history(st, "{\"Before\":\"2026-13-01T00:00:00Z\"}", &out));
    CHECK_MSG("Before");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_store_history(st, "{\"Before\":\"2026-11-30T15:04:05\"}", &out));
    CHECK_MSG("Before");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_FILTER, out, xmppfed_store_history(st, "{\"Identity\":\"[abc\"}", &out));
    CHECK_MSG("[abc");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_history(st, "{\"Colour\":\"red\"}", &out));
    CHECK_MSG("Colour");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_history(st, "{\"First\":-1}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_history(st, "{\"First\":\"10\"}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_history(st, "{\"After\":20261130}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_history(st, "[]", &out));
    CHECK_MSG("expected a JSON object");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_store_history(st, "{\"First\":", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_store_history(st, "", &out));
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_history(NULL, NULL, &out));
    CHECK_MSG("store");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_store_history(st, NULL, NULL));
    CHECK_MSG("history_json_out");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_store_history(st, "{\"Identity\":\"\xff\xfe\"}", &out));
    CHECK_MSG("query_json");
}

/* Export: both formats, filters, the replica; its argument errors. */
static void test_export(xmppfed_store *st) {
    char *out, *json, *csv;

    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"b.transfer.example\",\"AdditionalDomains\":[\"x.b.transfer.example\",\"y.b.transfer.example\"],"
                                           "\"Description\":\"quote \\\" comma , semicolon ;\",\"ConnectionLimit\":5}", false, &out));
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"a.transfer.example\",\"PartnerType\":\"Federated\"}", false, &out));
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"" BUCHER "\"}", false, &out));
    FREE(out);

    /* JSON: an array, one partner per line, sorted, without Revision. */
    EXPECT_OK(json, xmppfed_store_export(st, "Json", NULL, false, &json));
    CHECK(starts_with(json, "[\n  {\"Identity\":\"a.transfer.example\",\"Domain\":\"a.transfer.example\",\"AdditionalDomains\":[]"));
    CHECK_HAS(json, "},\n  {\"Identity\":\"b.transfer.example\"");
    CHECK_HAS(json, "\"AdditionalDomains\":[\"x.b.transfer.example\",\"y.b.transfer.example\"]");
    CHECK_HAS(json, "\"Description\":\"quote \\\" comma , semicolon ;\"");
    CHECK_HAS(json, "\"Identity\":\"" BUCHER "\"");
    CHECK_LACKS(json, "Revision");
    CHECK(count_of(json, "{\"Identity\":") == 3);
    static const char *const sorted[] = {"a.transfer.example", "b.transfer.example", BUCHER};
    CHECK(in_order(json, sorted, 3));
    /* CSV (the name case-insensitive): a header row, AdditionalDomains joined with ';', quoting. */
    EXPECT_OK(csv, xmppfed_store_export(st, "cSv", NULL, false, &csv));
    CHECK(starts_with(csv, "Identity,Domain,AdditionalDomains,Description,ProxyFqdn,PartnerType,TlsNegotiation,SaslNegotiation,"
                           "SupportDialbackNegotiation,EnableKeepAlive,ConnectionLimit\r\n"));
    CHECK_HAS(csv, "\na.transfer.example,a.transfer.example,,,,Federated,Required,Required,true,true,20");
    CHECK_HAS(csv, "\nb.transfer.example,b.transfer.example,x.b.transfer.example;y.b.transfer.example,\"quote \"\" comma , semicolon ;\",,PublicUnverified,");
    CHECK_LACKS(csv, "Revision");
    /* A filter, and the local replica (refreshed by every commit above): the same text. */
    EXPECT_OK(out, xmppfed_store_export(st, "JSON", "a.*", false, &out));
    CHECK(count_of(out, "{\"Identity\":") == 1);
    CHECK_HAS(out, "\"Identity\":\"a.transfer.example\"");
    FREE(out);
    EXPECT_OK(out, xmppfed_store_export(st, "json", "nothing.*", false, &out));
    CHECK(out && strcmp(out, "[]\n") == 0);
    FREE(out);
    EXPECT_OK(out, xmppfed_store_export(st, "Json", NULL, true, &out));
    CHECK(json && out && strcmp(json, out) == 0);
    FREE(out);
    EXPECT_OK(out, xmppfed_store_export(st, "Csv", NULL, true, &out));
    CHECK(csv && out && strcmp(csv, out) == 0);
    FREE(out);

    /* Errors: the format named, the filter's own error, NULL and non-UTF-8 arguments. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_store_export(st, "xml", NULL, false, &out));
    CHECK_MSG("Format");
    CHECK_MSG("'xml'");
    CHECK_MSG("Json, Csv");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_store_export(st, "", NULL, false, &out));
    CHECK_MSG("Format");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_FILTER, out, xmppfed_store_export(st, "Json", "[z-a]", false, &out));
    CHECK_MSG("z-a");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_export(NULL, "Json", NULL, false, &out));
    CHECK_MSG("store");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_export(st, NULL, NULL, false, &out));
    CHECK_MSG("format");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_store_export(st, "Json", NULL, false, NULL));
    CHECK_MSG("text_out");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_store_export(st, BAD_UTF8, NULL, false, &out));
    CHECK_MSG("format");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_store_export(st, "Json", "a\xff*", false, &out));
    CHECK_MSG("filter");
    FREE(json);
    FREE(csv);
}

/* Import's argument and whole-input errors: nothing is read from the store, nothing changes. */
static void test_import_errors(xmppfed_store *st) {
    char *out;
    long long revision = central_revision(st);
    static const char one[] = "[{\"Identity\":\"never.transfer.example\"}]";

    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_import(NULL, one, NULL, &out));
    CHECK_MSG("store");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_import_preview(NULL, one, NULL, &out));
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_import(st, NULL, NULL, &out));
    CHECK_MSG("input");
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_import_preview(st, NULL, "{}", &out));
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_store_import(st, one, NULL, NULL));
    CHECK_MSG("plan_json_out");
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_store_import_preview(st, one, NULL, NULL));
    CHECK_MSG("plan_json_out");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_store_import(st, "[{\"Identity\":\"\xff.example\"}]", NULL, &out));
    CHECK_MSG("input");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_UTF8, out, xmppfed_store_import_preview(st, one, "{\"Format\":\"\xc3(\"}", &out));
    CHECK_MSG("options_json");

    /* Options: syntax, shape (unknown field, wrong type, a format that is not one, naming it). */
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_store_import(st, one, "{\"RemoveMissing\":", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_import(st, one, "{\"Colour\":1}", &out));
    CHECK_MSG("Colour");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_import(st, one, "{\"RemoveMissing\":\"yes\"}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_import(st, one, "{\"ExpectedRevision\":-1}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_import(st, one, "{\"Format\":\"xml\"}", &out));
    CHECK_MSG("'xml' is not a valid Format");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_import_preview(st, one, "{\"Format\":null}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_import(st, one, "[]", &out));

    /* An input that cannot be read as a whole. */
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_store_import(st, "[{\"Identity\":", NULL, &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_store_import_preview(st, "", NULL, &out));
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_import(st, "{\"Identity\":\"a.example\"}", NULL, &out));
    CHECK_MSG("array");
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SHAPE, out, xmppfed_store_import(st, "[1]", NULL, &out));
    /* CSV read as JSON, and a CSV row with more fields than the header. */
    EXPECT_FAIL(XMPPFED_RESULT_JSON_SYNTAX, out, xmppfed_store_import(st, "Identity\na.example\n", NULL, &out));
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_store_import(st, "Identity\na.example,b,c\n", "{\"Format\":\"Csv\"}", &out));
    CHECK_MSG("line 2 has 3 fields");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_store_import(st, "Identity\n\"a.example\n", "{\"Format\":\"Csv\"}", &out));
    CHECK_MSG("never closed");
    /* An empty text is no list (with RemoveMissing it would empty the store); a header alone is. */
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_store_import(st, "", "{\"Format\":\"Csv\",\"RemoveMissing\":true}", &out));
    CHECK_MSG("no header row");
    EXPECT_FAIL(XMPPFED_RESULT_INVALID_VALUE, out, xmppfed_store_import_preview(st, "Name,Value\r\n", "{\"Format\":\"Csv\",\"RemoveMissing\":true}", &out));
    CHECK_MSG("names no Identity or Domain column");

    /* None of it touched the store. */
    CHECK(central_revision(st) == revision);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "never.transfer.example", false, &out));
}

/* An exported list imported again, in both formats: everything Unchanged, no commit. */
static void test_round_trip(xmppfed_store *st) {
    char *out, *text;
    static const char *const formats[][2] = {{"Json", "{\"Format\":\"Json\",\"RemoveMissing\":true}"},
                                            {"Csv", "{\"Format\":\"csv\",\"RemoveMissing\":true}"}};
    for (size_t i = 0; i < 2; i++) {
        long long revision = central_revision(st);
        EXPECT_OK(text, xmppfed_store_export(st, formats[i][0], NULL, false, &text));
        EXPECT_OK(out, xmppfed_store_import_preview(st, text, formats[i][1], &out));
        CHECK(number_after(out, "\"BaseRevision\":") == revision);
        CHECK_HAS(out, "\"Added\":[],\"Changed\":[],\"Removed\":[],\"Unchanged\":[\"a.transfer.example\",\"b.transfer.example\",\"" BUCHER "\"]");
        CHECK_HAS(out, "\"Rejected\":[],\"RemoveMissing\":true,\"CommittedRevision\":null");
        FREE(out);
        EXPECT_OK(out, xmppfed_store_import(st, text, formats[i][1], &out));
        CHECK_HAS(out, "\"Unchanged\":[\"a.transfer.example\",\"b.transfer.example\",\"" BUCHER "\"]");
        CHECK_HAS(out, "\"CommittedRevision\":null");
        FREE(out);
        CHECK(central_revision(st) == revision);
        /* The same text comes out again. */
        EXPECT_OK(out, xmppfed_store_export(st, formats[i][0], NULL, false, &out));
        CHECK(text && out && strcmp(text, out) == 0);
        FREE(out);
        FREE(text);
    }
}

/* An import that adds, changes and removes: one commit, every written partner at its revision,
 * one history entry per partner. */
static void test_import_applies_one_commit(xmppfed_store *st) {
    char *out, *plan, *list, *h;
    char *before_a;
    EXPECT_OK(before_a, xmppfed_partner_get(st, "a.transfer.example", false, &before_a));
    long long revision_a = revision_of(before_a);
    FREE(before_a);

    /* a: as it is (Unchanged); b: ConnectionLimit and AdditionalDomains changed; bücher: not
     * named (removed, RemoveMissing); c and d: new (d by its A-label, in CSV-like text values). */
    static const char input[] =
        "[{\"Identity\":\"a.transfer.example\",\"PartnerType\":\"federated\",\"Revision\":99},"
        " {\"Identity\":\"B.transfer.example.\",\"AdditionalDomains\":\"x.b.transfer.example;z.b.transfer.example\","
        "  \"Description\":\"quote \\\" comma , semicolon ;\",\"ConnectionLimit\":\"6\"},"
        " {\"Identity\":\"c.transfer.example\",\"EnableKeepAlive\":\"False\"},"
        " {\"Domain\":\"xn--d-bga.transfer.example\",\"Notes\":\"ignored\"}]";
    long long base = central_revision(st);
    EXPECT_OK(plan, xmppfed_store_import_preview(st, input, "{\"RemoveMissing\":true}", &plan));
    CHECK(number_after(plan, "\"BaseRevision\":") == base);
    CHECK_HAS(plan, "\"CommittedRevision\":null");
    char *unchanged = array_after(plan, "\"Unchanged\":");
    CHECK(unchanged && strcmp(unchanged, "[\"a.transfer.example\"]") == 0);
    free(unchanged);
    FREE(plan);
    CHECK(central_revision(st) == base);

    EXPECT_OK(plan, xmppfed_store_import(st, input, "{\"RemoveMissing\":true,\"ExpectedRevision\":null}", &plan));
    long long committed = number_after(plan, "\"CommittedRevision\":");
    CHECK(committed == base + 1);
    CHECK(central_revision(st) == committed);
    CHECK(number_after(plan, "\"BaseRevision\":") == base);
    char *added = array_after(plan, "\"Added\":");
    char *changed = array_after(plan, "\"Changed\":");
    char *removed = array_after(plan, "\"Removed\":");
    char *rejected = array_after(plan, "\"Rejected\":");
    CHECK(count_of(added, "{\"Identity\":") == 2);
    CHECK_HAS(added, "\"Identity\":\"c.transfer.example\"");
    CHECK_HAS(added, "\"EnableKeepAlive\":false");
    CHECK_HAS(added, "\"Identity\":\"d\xc3\xa9.transfer.example\"");
    CHECK(count_of(changed, "{\"Identity\":\"b.transfer.example\",\"Before\":") == 1);
    CHECK_HAS(changed, "\"Changes\":[{\"Property\":\"AdditionalDomains\",\"Old\":\"x.b.transfer.example, y.b.transfer.example\","
                       "\"New\":\"x.b.transfer.example, z.b.transfer.example\"},{\"Property\":\"ConnectionLimit\",\"Old\":\"5\",\"New\":\"6\"}]");
    CHECK(count_of(removed, "{\"Identity\":") == 1);
    CHECK_HAS(removed, "\"Identity\":\"" BUCHER "\"");
    CHECK(rejected && strcmp(rejected, "[]") == 0);
    CHECK_HAS(plan, "\"Id\":\"PropertyIgnored\"");
    CHECK_HAS(plan, "'Notes'");
    free(added); free(changed); free(removed); free(rejected);
    FREE(plan);

    /* Every partner the import wrote has the commit's revision; the unchanged one keeps its own. */
    EXPECT_OK(list, xmppfed_partner_list(st, NULL, false, &list));
    CHECK(count_of(list, "{\"Identity\":") == 4);
    char *at_commit = xasprintf("\"Revision\":%lld}", committed);
    CHECK(count_of(list, at_commit) == 3);
    free(at_commit);
    EXPECT_OK(out, xmppfed_partner_get(st, "a.transfer.example", false, &out));
    CHECK(revision_of(out) == revision_a);
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_get(st, "b.transfer.example", false, &out));
    CHECK_HAS(out, "\"AdditionalDomains\":[\"x.b.transfer.example\",\"z.b.transfer.example\"]");
    CHECK_HAS(out, "\"ConnectionLimit\":6");
    CHECK(revision_of(out) == committed);
    FREE(out);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, BUCHER, false, &out));
    /* The replica followed the commit. */
    char *local;
    EXPECT_OK(local, xmppfed_partner_list(st, NULL, true, &local));
    CHECK(list && local && strcmp(list, local) == 0);
    FREE(local);
    FREE(list);

    /* One history entry per partner, all of that one commit, by Import. */
    EXPECT_OK(h, xmppfed_store_history(st, NULL, &h));
    CHECK(entries_of_commit(h, committed) == 4);
    char *first = xasprintf("[{\"Revision\":%lld,", committed);
    CHECK(starts_with(h, first));
    free(first);
    FREE(h);
    char *q = xasprintf("{\"Identity\":\"*.transfer.example\",\"First\":3}");
    EXPECT_OK(h, xmppfed_store_history(st, q, &h));
    free(q);
    CHECK(entries_in(h) == 3);
    CHECK(count_of(h, "\"Operation\":\"Import\"") == 3);
    FREE(h);
    EXPECT_OK(h, xmppfed_store_history(st, "{\"Identity\":\"" BUCHER "\",\"First\":1}", &h));
    CHECK_HAS(h, "\"Operation\":\"Import\",\"Identity\":\"" BUCHER "\",\"Before\":{");
    CHECK_HAS(h, "\"After\":null");
    FREE(h);
    EXPECT_OK(h, xmppfed_store_history(st, "{\"Identity\":\"a.transfer.example\",\"First\":1}", &h));
    CHECK_LACKS(h, "\"Operation\":\"Import\"");
    FREE(h);
}

/* One bad item refuses the whole import (ImportRejected, nothing written); the preview lists
 * every rejected item with its position, identity and error id. */
static void test_import_rejected(xmppfed_store *st) {
    char *out, *plan, *export_before, *export_after, *h_before, *h_after;
    EXPECT_OK(export_before, xmppfed_store_export(st, "Json", NULL, false, &export_before));
    EXPECT_OK(h_before, xmppfed_store_history(st, NULL, &h_before));
    long long revision = central_revision(st);

    static const char input[] =
        "[{\"Identity\":\"new1.transfer.example\"},"
        " {\"Identity\":\"a.transfer.example\",\"ConnectionLimit\":9},"
        " {\"Identity\":\"bad..transfer.example\"},"
        " {\"Identity\":\"new1.transfer.example\"},"
        " {\"Identity\":\"grab.transfer.example\",\"AdditionalDomains\":[\"z.b.transfer.example\"]},"
        " {\"Identity\":\"neg.transfer.example\",\"SupportDialbackNegotiation\":false,\"TlsNegotiation\":\"NotSupported\"},"
        " {\"Identity\":\"limit.transfer.example\",\"ConnectionLimit\":0}]";
    EXPECT_FAIL(XMPPFED_RESULT_IMPORT_REJECTED, out, xmppfed_store_import(st, input, NULL, &out));
    CHECK_MSG("5 input item(s) cannot be imported");
    CHECK_MSG("nothing was imported");
    CHECK_MSG("position 3");
    CHECK_MSG("bad..transfer.example");
    /* Refused with RemoveMissing too (which would have removed b, c and d). */
    EXPECT_FAIL(XMPPFED_RESULT_IMPORT_REJECTED, out, xmppfed_store_import(st, input, "{\"RemoveMissing\":true}", &out));
    CHECK(central_revision(st) == revision);
    EXPECT_OK(export_after, xmppfed_store_export(st, "Json", NULL, false, &export_after));
    CHECK(export_before && export_after && strcmp(export_before, export_after) == 0);
    FREE(export_after);
    EXPECT_OK(h_after, xmppfed_store_history(st, NULL, &h_after));
    CHECK(h_before && h_after && strcmp(h_before, h_after) == 0);
    FREE(h_after);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "new1.transfer.example", false, &out));

    EXPECT_OK(plan, xmppfed_store_import_preview(st, input, NULL, &plan));
    char *rejected = array_after(plan, "\"Rejected\":");
    CHECK(count_of(rejected, "{\"Position\":") == 5);
    CHECK_HAS(rejected, "{\"Position\":3,\"Identity\":\"bad..transfer.example\",\"ErrorId\":\"InvalidDomain\",\"Reason\":\"Identity 'bad..transfer.example' is not a valid domain");
    CHECK_HAS(rejected, "{\"Position\":4,\"Identity\":\"new1.transfer.example\",\"ErrorId\":\"DuplicateIdentity\",\"Reason\":\"");
    CHECK_HAS(rejected, "{\"Position\":5,\"Identity\":\"grab.transfer.example\",\"ErrorId\":\"DomainConflict\",\"Reason\":\"domain 'z.b.transfer.example'");
    CHECK_HAS(rejected, "{\"Position\":6,\"Identity\":\"neg.transfer.example\",\"ErrorId\":\"InvalidNegotiation\"");
    CHECK_HAS(rejected, "{\"Position\":7,\"Identity\":\"limit.transfer.example\",\"ErrorId\":\"InvalidValue\",\"Reason\":\"ConnectionLimit");
    /* In the order of the input. */
    CHECK(rejected && strstr(rejected, "\"Position\":3") < strstr(rejected, "\"Position\":7"));
    free(rejected);
    /* What would be done without them is still shown. */
    CHECK_HAS(plan, "\"Added\":[{\"Identity\":\"new1.transfer.example\"");
    CHECK_HAS(plan, "\"Changed\":[{\"Identity\":\"a.transfer.example\"");
    CHECK_HAS(plan, "\"CommittedRevision\":null");
    FREE(plan);
    CHECK(central_revision(st) == revision);

    /* CSV rows are positioned by their line. */
    EXPECT_OK(plan, xmppfed_store_import_preview(st, "Identity,ConnectionLimit\nok.transfer.example,3\nno.transfer.example,many\n", "{\"Format\":\"Csv\"}", &plan));
    CHECK_HAS(plan, "\"Rejected\":[{\"Position\":3,\"Identity\":\"no.transfer.example\",\"ErrorId\":\"InvalidValue\",\"Reason\":\"ConnectionLimit");
    FREE(plan);
    EXPECT_FAIL(XMPPFED_RESULT_IMPORT_REJECTED, out, xmppfed_store_import(st, "Identity,ConnectionLimit\nok.transfer.example,3\nno.transfer.example,many\n", "{\"Format\":\"Csv\"}", &out));
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "ok.transfer.example", false, &out));
    CHECK(central_revision(st) == revision);
    FREE(h_before);
    FREE(export_before);
}

/* A difference shown at one revision is applied only at that revision (ExpectedRevision). */
static void test_import_store_changed(xmppfed_store *st) {
    char *out, *plan, *export_before, *export_after;
    static const char input[] = "[{\"Identity\":\"late.transfer.example\"}]";
    EXPECT_OK(plan, xmppfed_store_import_preview(st, input, NULL, &plan));
    long long base = number_after(plan, "\"BaseRevision\":");
    CHECK(base == central_revision(st));
    FREE(plan);
    /* Meanwhile someone else commits. */
    EXPECT_OK(out, xmppfed_partner_set(st, "a.transfer.example", "{\"Description\":\"meanwhile\"}", &out));
    FREE(out);
    EXPECT_OK(export_before, xmppfed_store_export(st, "Csv", NULL, false, &export_before));
    char *options = xasprintf("{\"ExpectedRevision\":%lld}", base);
    EXPECT_FAIL(XMPPFED_RESULT_STORE_CHANGED, out, xmppfed_store_import(st, input, options, &out));
    char *facts = xasprintf("at revision %lld, now at %lld", base, base + 1);
    CHECK_MSG(facts);
    CHECK_MSG("nothing was imported");
    free(facts);
    free(options);
    CHECK(central_revision(st) == base + 1);
    EXPECT_OK(export_after, xmppfed_store_export(st, "Csv", NULL, false, &export_after));
    CHECK(export_before && export_after && strcmp(export_before, export_after) == 0);
    FREE(export_after);
    FREE(export_before);
    EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "late.transfer.example", false, &out));
    /* The preview takes it too (it writes nothing, whatever the revision). */
    EXPECT_OK(plan, xmppfed_store_import_preview(st, input, "{\"ExpectedRevision\":1}", &plan));
    FREE(plan);
    /* At the current revision it is applied. */
    options = xasprintf("{\"ExpectedRevision\":%lld}", base + 1);
    EXPECT_OK(plan, xmppfed_store_import(st, input, options, &plan));
    CHECK(number_after(plan, "\"CommittedRevision\":") == base + 2);
    FREE(plan);
    free(options);
    EXPECT_OK(out, xmppfed_partner_get(st, "late.transfer.example", false, &out));
    CHECK(revision_of(out) == base + 2);
    FREE(out);
}

/* Domains may move between partners within one import, whichever partner is written first; the
 * store's one-domain-one-partner rule holds afterwards, on this handle and on a fresh one. */
static void test_import_moves_domains(xmppfed_store *st, const char *central, const char *replica) {
    char *out, *plan;
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"m2.transfer.example\",\"AdditionalDomains\":[\"moving.transfer.example\"]}", false, &out));
    FREE(out);
    EXPECT_OK(out, xmppfed_partner_new(st, "{\"Identity\":\"m1.transfer.example\"}", false, &out));
    FREE(out);
    /* m1 (written first) takes moving.transfer.example from m2. */
    EXPECT_OK(plan, xmppfed_store_import(st, "[{\"Identity\":\"m1.transfer.example\",\"AdditionalDomains\":[\"moving.transfer.example\"]},"
                                             "{\"Identity\":\"m2.transfer.example\"}]", NULL, &plan));
    CHECK_HAS(plan, "\"Rejected\":[]");
    CHECK(number_after(plan, "\"CommittedRevision\":") > 0);
    FREE(plan);
    xmppfed_store *fresh = STORE_SENTINEL;
    CHECK_RC(xmppfed_store_open(central, replica, &fresh), XMPPFED_RESULT_OK);
    xmppfed_store *handles[2] = {st, fresh};
    for (int i = 0; i < 2; i++) {
        xmppfed_store *s = handles[i];
        if (s == STORE_SENTINEL || s == NULL) continue;
        EXPECT_OK(out, xmppfed_partner_explain(s, "moving.transfer.example", false, &out));
        CHECK_HAS(out, "\"Allowed\":true,\"Partner\":\"m1.transfer.example\",\"CoveredAs\":\"AdditionalDomain\"");
        FREE(out);
        EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out, xmppfed_partner_new(s, "{\"Identity\":\"moving.transfer.example\"}", false, &out));
        CHECK_MSG("m1.transfer.example");
        EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out, xmppfed_partner_set(s, "m2.transfer.example", "{\"AdditionalDomains\":{\"Add\":\"moving.transfer.example\"}}", &out));
    }
    if (fresh != STORE_SENTINEL) xmppfed_store_close(fresh);
    /* And back to m2, in one import with m1 written first again. */
    EXPECT_OK(plan, xmppfed_store_import(st, "[{\"Identity\":\"m2.transfer.example\",\"AdditionalDomains\":[\"moving.transfer.example\"]},"
                                             "{\"Identity\":\"m1.transfer.example\"}]", NULL, &plan));
    FREE(plan);
    EXPECT_FAIL(XMPPFED_RESULT_DOMAIN_CONFLICT, out, xmppfed_partner_new(st, "{\"Identity\":\"moving.transfer.example\"}", false, &out));
    CHECK_MSG("m2.transfer.example");
}

/* The history of a folder store survives compaction (carried into history.<generation>.log) and
 * a reopen; a PostgreSQL store keeps its log rows. Large imports make a folder store compact. */
static void test_history_kept(xmppfed_store *st, const char *central, const char *replica, int folder) {
    enum { MANY = 1200 };
    char *out, *plan, *h;
    char *log_before = folder ? current_log(central) : NULL;
    /* MANY new partners in one import... */
    size_t cap = (size_t)MANY * 64 + 16, len = 0;
    char *input = malloc(cap);
    if (!input) { perror("malloc"); exit(2); }
    input[len++] = '[';
    for (int i = 0; i < MANY; i++) {
        len += (size_t)snprintf(input + len, cap - len, "%s{\"Identity\":\"bulk%04d.kept.example\",\"ConnectionLimit\":%d}", i ? "," : "", i, 1 + i % 50);
    }
    input[len++] = ']';
    input[len] = '\0';
    EXPECT_OK(plan, xmppfed_store_import(st, input, NULL, &plan));
    long long bulk = number_after(plan, "\"CommittedRevision\":");
    CHECK(count_of(plan, "\"Identity\":\"bulk") == MANY);
    FREE(plan);
    free(input);
    EXPECT_OK(out, xmppfed_partner_list(st, "bulk*", false, &out));
    char *at_bulk = xasprintf("\"Revision\":%lld}", bulk);
    CHECK(count_of(out, at_bulk) == MANY);
    free(at_bulk);
    FREE(out);
    /* A long list as binary records too (far beyond the encoder's first allocation). */
    CHECK(CHECK_PAGES_LIKE_LIST(st, "bulk*", false) == MANY);
    CHECK(CHECK_PAGES_LIKE_LIST(st, "bulk*", true) == MANY);
    /* ... then every partner removed in one (a folder store compacts after it). */
    EXPECT_OK(plan, xmppfed_store_import(st, "[]", "{\"RemoveMissing\":true}", &plan));
    long long cleared = number_after(plan, "\"CommittedRevision\":");
    CHECK(cleared == bulk + 1);
    FREE(plan);
    if (folder) {
        char *log_after = current_log(central);
        CHECK(log_before && log_after && strcmp(log_before, log_after) != 0);
        /* The new generation's history file sits beside its log. */
        char *gen = log_after ? strstr(log_after, "partners.") : NULL;
        char *history_file = gen ? xasprintf("%.*shistory.%s", (int)(gen - log_after), log_after, gen + strlen("partners.")) : NULL;
        CHECK(history_file && access(history_file, F_OK) == 0);
        free(history_file);
        free(log_after);
    }
    /* Every change is still there: both bulk commits whole, and what came before them. */
    for (int pass = 0; pass < 2; pass++) {
        xmppfed_store *s = st;
        if (pass == 1) {
            s = STORE_SENTINEL;
            if (CHECK_RC(xmppfed_store_open(central, replica, &s), XMPPFED_RESULT_OK) != XMPPFED_RESULT_OK) break;
        }
        EXPECT_OK(h, xmppfed_store_history(s, NULL, &h));
        CHECK(entries_of_commit(h, bulk) == MANY);
        CHECK(entries_of_commit(h, cleared) >= MANY);
        FREE(h);
        EXPECT_OK(h, xmppfed_store_history(s, "{\"Identity\":\"bulk0042.kept.example\"}", &h));
        CHECK(entries_in(h) == 2);
        CHECK_HAS(h, "\"Operation\":\"Import\",\"Identity\":\"bulk0042.kept.example\",\"Before\":{");
        CHECK_HAS(h, "\"Before\":null,\"After\":{\"Identity\":\"bulk0042.kept.example\"");
        CHECK_HAS(h, "\"ConnectionLimit\":43,");
        FREE(h);
        EXPECT_OK(h, xmppfed_store_history(s, "{\"Identity\":\"h1.history.example\"}", &h));
        CHECK(entries_in(h) == 3);
        CHECK_HAS(h, "\"Changes\":[{\"Property\":\"Description\",\"Old\":\"one\",\"New\":\"two\"},");
        FREE(h);
        if (pass == 1) xmppfed_store_close(s);
    }
    free(log_before);
}

/* One partner test_list_pages creates, and what its record must hold. */
struct expected_partner {
    const char *new_json;      /* the argument of xmppfed_partner_new */
    const char *identity;      /* canonical: the record's Identity and Domain */
    const char *description;
    const char *proxy_fqdn;
    const char *additional[4]; /* in the order given, up to the first NULL */
    uint8_t partner_type, tls, sasl, flags;
    uint32_t connection_limit;
};

#define E5 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
#define E50 E5 E5 E5 E5 E5 E5 E5 E5 E5 E5
#define E300 E50 E50 E50 E50 E50 E50 /* 300 characters, 600 bytes: a length beyond one byte */
#define RECORDS_BUCHER "b\xc3\xbc" "cher.records.net"

/* In identity order, which is the list's order. Every enum code and every combination of the two
 * flags occurs; the description of c.records.com is changed afterwards by a Set. */
static const struct expected_partner RECORD_PARTNERS[] = {
    {"{\"Identity\":\"A.Records.ORG.\",\"AdditionalDomains\":[\"y.records.net\",\"chat.a.records.org\",\"X.Records.NET.\"],"
     "\"Description\":\"Caf\\u00e9 \\u2014 \\ud83d\\ude00 \\\"q\\\" \\\\ tab\\tline\\nend\\r\",\"ProxyFqdn\":\"Proxy.Records.NET\","
     "\"PartnerType\":\"Federated\",\"TlsNegotiation\":\"Required\",\"SaslNegotiation\":\"Optional\","
     "\"SupportDialbackNegotiation\":false,\"EnableKeepAlive\":true,\"ConnectionLimit\":1}",
     "a.records.org", "Caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80 \"q\" \\ tab\tline\nend\r", "proxy.records.net",
     {"y.records.net", "chat.a.records.org", "x.records.net", NULL}, 0, 0, 1, 2, 1},
    {"{\"Identity\":\"B\xc3\x9c" "CHER.records.net\",\"PartnerType\":\"PublicVerified\",\"TlsNegotiation\":\"Optional\","
     "\"SaslNegotiation\":\"NotSupported\",\"SupportDialbackNegotiation\":true,\"EnableKeepAlive\":false,"
     "\"ConnectionLimit\":16909060}",
     RECORDS_BUCHER, "", "", {NULL}, 1, 1, 2, 1, 0x01020304u},
    {"{\"Domain\":\"C.Records.COM\",\"AdditionalDomains\":[\"only.records.com\"],\"Description\":\"before\","
     "\"PartnerType\":\"PublicUnverified\",\"TlsNegotiation\":\"NotSupported\",\"SaslNegotiation\":\"Required\","
     "\"SupportDialbackNegotiation\":true,\"EnableKeepAlive\":true,\"ConnectionLimit\":4294967295}",
     "c.records.com", "after set", "", {"only.records.com", NULL}, 2, 2, 0, 3, 4294967295u},
    {"{\"Identity\":\"d.records.org\",\"Description\":\"" E300 "\",\"TlsNegotiation\":\"Optional\","
     "\"SaslNegotiation\":\"Required\",\"SupportDialbackNegotiation\":false,\"EnableKeepAlive\":false}",
     "d.records.org", E300, "", {NULL}, 2, 1, 0, 0, 20},
};
#define RECORD_PARTNER_COUNT (sizeof RECORD_PARTNERS / sizeof RECORD_PARTNERS[0])

/* Every field of a decoded record against the values the partner was created with. */
static void check_record(const struct record *r, const struct expected_partner *e, long long revision) {
    int failed_before = g_failed;
    CHECK(revision > 0 && r->revision == (uint64_t)revision);
    CHECK(r->connection_limit == e->connection_limit);
    CHECK(r->partner_type == e->partner_type);
    CHECK(r->tls == e->tls);
    CHECK(r->sasl == e->sasl);
    CHECK(r->flags == e->flags);
    CHECK(text_is(r->identity, e->identity));
    CHECK(text_is(r->domain, e->identity));
    CHECK(text_is(r->description, e->description));
    CHECK(text_is(r->proxy_fqdn, e->proxy_fqdn));
    uint32_t n = 0;
    while (n < 4 && e->additional[n]) n++;
    if (CHECK(r->n_additional == n)) {
        for (uint32_t k = 0; k < n; k++) CHECK(text_is(r->additional[k], e->additional[k]));
    }
    if (g_failed > failed_before) fprintf(stderr, "    in the record of %s\n", e->identity);
}

/* xmppfed_partner_list_pages on an empty store, on partners with every enum value, both flags
 * on and off, non-ASCII texts, several additional domains and a ProxyFqdn (field by field, and as
 * the JSON list), with filters, and with invalid filters. */
static void test_list_pages(xmppfed_store *st) {
    char *out, *json;
    xmppfed_partner_pages *pages;
    size_t count;
    struct paged pg;
    struct records rs;
    const char *problem;

    /* An empty store: a count of 0 and no page (the end at once), centrally and from the replica;
     * joined, exactly the format and a zero count. */
    for (int local = 0; local < 2; local++) {
        EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, NULL, local, &pages, &count));
        memset(&pg, 0, sizeof pg);
        if (pages) {
            CHECK(READ_PAGES(pages, count, &pg, SIZE_MAX) && count == 0 && pg.pages == 0);
            CHECK(pg.len == sizeof EMPTY_RECORDS && memcmp(pg.buf, EMPTY_RECORDS, sizeof EMPTY_RECORDS) == 0);
        }
        FREE_PAGES(pages);
        free_paged(&pg);
        CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, local) == 0);
    }

    long long revisions[RECORD_PARTNER_COUNT];
    for (size_t i = 0; i < RECORD_PARTNER_COUNT; i++) {
        EXPECT_OK(out, xmppfed_partner_new(st, RECORD_PARTNERS[i].new_json, false, &out));
        char *identity = xasprintf("\"Identity\":\"%s\"", RECORD_PARTNERS[i].identity);
        CHECK_HAS(out, identity);
        free(identity);
        revisions[i] = revision_of(out);
        FREE(out);
    }
    /* A later revision for c.records.com: the revisions are not in the list's order. */
    EXPECT_OK(out, xmppfed_partner_set(st, "c.records.com", "{\"Description\":\"after set\"}", &out));
    revisions[2] = revision_of(out);
    CHECK(revisions[2] > revisions[3]);
    FREE(out);

    for (int local = 0; local < 2; local++) {
        EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, NULL, local, &pages, &count));
        memset(&pg, 0, sizeof pg);
        if (pages) CHECK(READ_PAGES(pages, count, &pg, SIZE_MAX));
        FREE_PAGES(pages);
        /* Four partners are one page, which is the records of the whole list. */
        CHECK(count == RECORD_PARTNER_COUNT && pg.pages == 1);
        CHECK(pg.first && pg.first_len == pg.len && memcmp(pg.first, pg.buf, pg.len) == 0);
        /* The first record's fixed part, byte by byte: Revision, ConnectionLimit 1, Federated,
         * Required, Optional, keep-alive only. */
        const uint8_t *records = pg.first;
        if (CHECK(records && pg.first_len >= 32)) {
            static const uint8_t fixed[] = {1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2};
            CHECK(memcmp(records + 16, fixed + 8, 8) == 0);
            uint64_t revision = 0;
            for (int k = 7; k >= 0; k--) revision = revision << 8 | records[8 + k];
            CHECK(revision == (uint64_t)revisions[0]);
            CHECK(records[4] == RECORD_PARTNER_COUNT && records[5] == 0 && records[6] == 0 && records[7] == 0);
        }
        problem = decode_records(pg.buf, pg.len, &rs);
        if (!CHECK(problem == NULL)) fprintf(stderr, "    %s\n", problem);
        if (problem == NULL && CHECK(rs.count == RECORD_PARTNER_COUNT)) {
            for (size_t i = 0; i < RECORD_PARTNER_COUNT; i++) check_record(&rs.items[i], &RECORD_PARTNERS[i], revisions[i]);
        }
        free_records(&rs);
        free_paged(&pg);
        /* The JSON list has these partners in this order, and equals the records as JSON. */
        const char *ids[RECORD_PARTNER_COUNT];
        for (size_t i = 0; i < RECORD_PARTNER_COUNT; i++) ids[i] = RECORD_PARTNERS[i].identity;
        EXPECT_OK(json, xmppfed_partner_list(st, NULL, local, &json));
        CHECK(count_of(json, "\"Identity\":") == (int)RECORD_PARTNER_COUNT);
        CHECK(in_order(json, ids, RECORD_PARTNER_COUNT));
        FREE(json);
        CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, local) == (long)RECORD_PARTNER_COUNT);
    }

    /* A filter selects the identities the JSON list selects with it, in the same order. */
    static const struct {
        const char *filter;
        const char *ids[RECORD_PARTNER_COUNT];
        uint32_t count;
    } filtered[] = {
        {"*.org", {"a.records.org", "d.records.org"}, 2},
        {"B\xc3\x9c*", {RECORDS_BUCHER}, 1},
        {"?.RECORDS.*", {"a.records.org", "c.records.com", "d.records.org"}, 3},
        {"[cd]*", {"c.records.com", "d.records.org"}, 2},
        {"c`?*", {NULL}, 0},
        {"nothing*", {NULL}, 0},
    };
    for (size_t f = 0; f < sizeof filtered / sizeof filtered[0]; f++) {
        for (int local = 0; local < 2; local++) {
            int failed_before = g_failed;
            uint32_t n = filtered[f].count;
            EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, filtered[f].filter, local, &pages, &count));
            memset(&pg, 0, sizeof pg);
            if (pages) CHECK(READ_PAGES(pages, count, &pg, SIZE_MAX));
            FREE_PAGES(pages);
            CHECK(count == n && pg.pages == (n ? 1u : 0u));
            problem = decode_records(pg.buf, pg.len, &rs);
            if (!CHECK(problem == NULL)) fprintf(stderr, "    %s\n", problem);
            if (problem == NULL && CHECK(rs.count == n)) {
                for (uint32_t k = 0; k < n; k++) CHECK(text_is(rs.items[k].identity, filtered[f].ids[k]));
            }
            if (n == 0) CHECK(pg.buf && pg.len == sizeof EMPTY_RECORDS && memcmp(pg.buf, EMPTY_RECORDS, sizeof EMPTY_RECORDS) == 0);
            free_records(&rs);
            free_paged(&pg);
            EXPECT_OK(json, xmppfed_partner_list(st, filtered[f].filter, local, &json));
            CHECK(count_of(json, "\"Identity\":") == (int)n);
            CHECK(in_order(json, filtered[f].ids, n));
            FREE(json);
            CHECK(CHECK_PAGES_LIKE_LIST(st, filtered[f].filter, local) == (long)n);
            if (g_failed > failed_before) fprintf(stderr, "    filter %s, local %d\n", filtered[f].filter, local);
        }
    }

    /* An invalid filter: InvalidFilter as for the JSON list, the out pointers untouched. */
    static const char *const invalid[] = {"[abc", "[z-a]*", "*.org["};
    for (size_t f = 0; f < sizeof invalid / sizeof invalid[0]; f++) {
        for (int local = 0; local < 2; local++) {
            EXPECT_FAIL(XMPPFED_RESULT_INVALID_FILTER, json, xmppfed_partner_list(st, invalid[f], local, &json));
            EXPECT_PAGES_FAIL(XMPPFED_RESULT_INVALID_FILTER, pages, count, xmppfed_partner_list_pages(st, invalid[f], local, &pages, &count));
            CHECK_MSG(invalid[f]);
            CHECK(CHECK_PAGES_LIKE_LIST(st, invalid[f], local) == -1);
        }
    }
}

/* The list of test_pages_of_a_long_list, as an import's input: two partners of more than a page
 * each (1,000 additional domains with 60-character first labels: about 81 KB of records), first
 * in identity order, then LONG_LIST_SMALL of about 1 KiB each (a 1,000-character description). */
#define LONG_LIST_SMALL 300
#define LONG_LIST_COUNT (2 + LONG_LIST_SMALL)

static char *long_list_input(void) {
    struct sbuf b = {NULL, 0, 0};
    char description[1001];
    for (int i = 0; i < 1000; i++) description[i] = (char)('a' + i % 26);
    description[1000] = '\0';
    sb_str(&b, "[");
    for (int h = 1; h <= 2; h++) {
        char *item = xasprintf("{\"Identity\":\"h%d.pages.example\",\"AdditionalDomains\":[", h);
        sb_str(&b, item);
        free(item);
        for (int k = 0; k < 1000; k++) {
            item = xasprintf("%s\"d%03d-%.55s.h%d.pages.example\"", k ? "," : "", k, description, h);
            sb_str(&b, item);
            free(item);
        }
        sb_str(&b, "]},");
    }
    for (int i = 0; i < LONG_LIST_SMALL; i++) {
        char *item = xasprintf("%s{\"Identity\":\"p%03d.pages.example\",\"Description\":\"%s\"}", i ? "," : "", i, description);
        sb_str(&b, item);
        free(item);
    }
    sb_str(&b, "]");
    return b.p;
}

/* A list of several pages: every page but the last at least PAGE_BYTES, a partner larger than
 * a page alone on its page, every partner once in identity order; the pages a snapshot of the
 * list call (commits made afterwards, before the first page or between pages, change nothing in
 * them), readable after their store handle is closed, and freed before their end without a leak
 * (valgrind checks). Against an empty store; `central` and `replica` open a second handle. */
static void test_pages_of_a_long_list(xmppfed_store *st, const char *central, const char *replica) {
    char *out, *json;
    xmppfed_partner_pages *pages;
    size_t count;
    struct paged pg;

    char *input = long_list_input();
    EXPECT_OK(out, xmppfed_store_import(st, input, NULL, &out));
    CHECK(number_after(out, "\"CommittedRevision\":") > 0);
    FREE(out);
    free(input);

    for (int local = 0; local < 2; local++) {
        int failed_before = g_failed;
        EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, NULL, local, &pages, &count));
        memset(&pg, 0, sizeof pg);
        if (pages) CHECK(READ_PAGES(pages, count, &pg, SIZE_MAX));
        FREE_PAGES(pages);
        CHECK(count == LONG_LIST_COUNT && pg.count == LONG_LIST_COUNT);
        /* Each of the two large partners is a page of its own; the 300 small ones (about 321 KB)
         * take 5 more. */
        if (CHECK(pg.pages >= 2 + 5)) {
            CHECK(pg.cuts[0].count == 1 && pg.cuts[0].len > PAGE_BYTES);
            CHECK(pg.cuts[1].count == 1 && pg.cuts[1].len > PAGE_BYTES);
            for (size_t i = 2; i < pg.pages; i++) CHECK(pg.cuts[i].count > 1);
        }
        /* (READ_PAGES checked this too: no page short of PAGE_BYTES but the last.) */
        for (size_t i = 0; i + 1 < pg.pages; i++) CHECK(pg.cuts[i].len >= PAGE_BYTES);
        struct records rs;
        const char *problem = decode_records(pg.buf, pg.len, &rs);
        if (!CHECK(problem == NULL)) fprintf(stderr, "    %s\n", problem);
        if (problem == NULL && CHECK(rs.count == LONG_LIST_COUNT)) {
            CHECK(text_is(rs.items[0].identity, "h1.pages.example") && rs.items[0].n_additional == 1000);
            CHECK(text_is(rs.items[1].identity, "h2.pages.example") && rs.items[1].n_additional == 1000);
            for (int i = 0; i < LONG_LIST_SMALL; i++) {
                char *identity = xasprintf("p%03d.pages.example", i);
                if (!CHECK(text_is(rs.items[2 + i].identity, identity) && rs.items[2 + i].description.len == 1000)) {
                    fprintf(stderr, "    record %d is not %s\n", 2 + i, identity);
                }
                free(identity);
            }
        }
        free_records(&rs);
        free_paged(&pg);
        CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, local) == LONG_LIST_COUNT);
        CHECK(CHECK_PAGES_LIKE_LIST(st, "p*", local) == LONG_LIST_SMALL);
        CHECK(CHECK_PAGES_LIKE_LIST(st, "p1??.PAGES.example", local) == 100);
        CHECK(CHECK_PAGES_LIKE_LIST(st, "h?.pages.example", local) == 2);
        if (g_failed > failed_before) fprintf(stderr, "    local %d\n", local);
    }

    /* A snapshot: the pages give the partners of the list call, whatever is committed after it,
     * before the first page is read and between pages, centrally and from the replica (which
     * each commit refreshes). Every change falls in a page not read yet (the first page is h1's). */
    for (int local = 0; local < 2; local++) {
        int failed_before = g_failed;
        char *before, *after;
        EXPECT_OK(before, xmppfed_partner_list(st, NULL, local, &before));
        EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, NULL, local, &pages, &count));
        char *change = xasprintf("{\"Description\":\"changed after the list %d\"}", local);
        EXPECT_OK(out, xmppfed_partner_set(st, "p299.pages.example", change, &out));
        FREE(out);
        free(change);
        memset(&pg, 0, sizeof pg);
        char *added = xasprintf("p150-%d.pages.example", local);
        char *removed = xasprintf("p20%d.pages.example", local);
        if (pages) {
            CHECK(!READ_PAGES(pages, count, &pg, 1) && pg.pages == 1);
            char *new_json = xasprintf("{\"Identity\":\"%s\"}", added);
            EXPECT_OK(out, xmppfed_partner_new(st, new_json, false, &out));
            FREE(out);
            free(new_json);
            EXPECT_OK(out, xmppfed_partner_remove(st, removed, &out));
            FREE(out);
            change = xasprintf("{\"ConnectionLimit\":%d}", 3 + local);
            EXPECT_OK(out, xmppfed_partner_set(st, "h2.pages.example", change, &out));
            FREE(out);
            EXPECT_OK(out, xmppfed_partner_set(st, "p250.pages.example", change, &out));
            FREE(out);
            free(change);
            CHECK(READ_PAGES(pages, count, &pg, SIZE_MAX));
            char *again = paged_as_json(&pg);
            CHECK(count == LONG_LIST_COUNT && pg.pages >= 2 + 5);
            if (!CHECK(again && before && strcmp(again, before) == 0)) {
                fprintf(stderr, "    the pages do not give the list of their call\n");
            }
            free(again);
        }
        FREE_PAGES(pages);
        free_paged(&pg);
        /* The commits did change the list that a new call gives. */
        EXPECT_OK(after, xmppfed_partner_list(st, NULL, local, &after));
        CHECK(before && after && strcmp(before, after) != 0);
        CHECK_HAS(after, added);
        CHECK_LACKS(after, removed);
        CHECK_HAS(after, "changed after the list");
        CHECK(CHECK_PAGES_LIKE_LIST(st, NULL, local) == LONG_LIST_COUNT);
        FREE(after);
        FREE(before);
        free(added);
        free(removed);
        if (g_failed > failed_before) fprintf(stderr, "    local %d\n", local);
    }

    /* Pages outlive their store handle: taken from a second handle, one read in part before the
     * handle is closed, both read after it (valgrind would see a read of freed memory). */
    xmppfed_store *st2 = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(central, replica, &st2), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
        xmppfed_partner_pages *central_pages, *local_pages;
        size_t central_count, local_count;
        struct paged central_pg = {0}, local_pg = {0};
        EXPECT_PAGES_OK(central_pages, central_count, xmppfed_partner_list_pages(st2, NULL, false, &central_pages, &central_count));
        EXPECT_PAGES_OK(local_pages, local_count, xmppfed_partner_list_pages(st2, "p*", true, &local_pages, &local_count));
        if (central_pages) CHECK(!READ_PAGES(central_pages, central_count, &central_pg, 2) && central_pg.pages == 2);
        xmppfed_store_close(st2);
        if (central_pages) CHECK(READ_PAGES(central_pages, central_count, &central_pg, SIZE_MAX));
        if (local_pages) CHECK(READ_PAGES(local_pages, local_count, &local_pg, SIZE_MAX));
        FREE_PAGES(central_pages);
        FREE_PAGES(local_pages);
        char *again;
        EXPECT_OK(json, xmppfed_partner_list(st, NULL, false, &json));
        again = paged_as_json(&central_pg);
        CHECK(central_count == LONG_LIST_COUNT && again && json && strcmp(again, json) == 0);
        free(again);
        FREE(json);
        EXPECT_OK(json, xmppfed_partner_list(st, "p*", true, &json));
        again = paged_as_json(&local_pg);
        CHECK(local_count == LONG_LIST_COUNT - 2 && again && json && strcmp(again, json) == 0);
        free(again);
        FREE(json);
        free_paged(&central_pg);
        free_paged(&local_pg);
    }

    /* Pages freed before their end, after one page or before any, centrally or from the replica:
     * what they still held is released (valgrind would report a leak). */
    for (int local = 0; local < 2; local++) {
        EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, NULL, local, &pages, &count));
        memset(&pg, 0, sizeof pg);
        if (pages) CHECK(!READ_PAGES(pages, count, &pg, 1) && pg.pages == 1 && pg.count == 1);
        FREE_PAGES(pages);
        free_paged(&pg);
        EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, "p*", local, &pages, &count));
        CHECK(count == LONG_LIST_COUNT - 2);
        FREE_PAGES(pages);
    }
}

/* History, export and import on a store that earlier checks used (emptied first by an import). */
static void test_transfer_and_history(const char *central, const char *replica, int folder) {
    xmppfed_store *st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(central, replica, &st), XMPPFED_RESULT_OK) != XMPPFED_RESULT_OK) return;
    empty_by_import(st);
    test_history(st);
    empty_by_import(st);
    test_export(st);
    test_import_errors(st);
    test_round_trip(st);
    test_import_applies_one_commit(st);
    test_import_rejected(st);
    test_import_store_changed(st);
    test_import_moves_domains(st, central, replica);
    test_history_kept(st, central, replica, folder);
    empty_by_import(st);
    test_list_pages(st);
    empty_by_import(st);
    test_pages_of_a_long_list(st, central, replica);
    xmppfed_store_close(st);
}

/* Every store-agnostic check, on one store: `central` is a folder (`folder` true) or a
 * PostgreSQL connection string; folder-only checks (the log file's bytes, the folder lock, a
 * folder moved away) run only for a folder. */
static void test_store(const char *root, const char *central, const char *replica, int folder) {
    xmppfed_store *st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(central, replica, &st), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK &&
        CHECK(st != NULL && st != STORE_SENTINEL)) {
        CHECK(xmppfed_last_error_message() == NULL);
        char *out;
        EXPECT_OK(out, xmppfed_store_paths(st, &out));
        char real[PATH_MAX];
        if (!folder) {
            /* A database is named without its password: postgresql://user@host:port/dbname. */
            CHECK_HAS(out, "\"Central\":\"postgresql://");
            CHECK_LACKS(out, "password");
        } else if (CHECK(realpath(central, real) != NULL)) {
#ifdef _WIN32
            /* Both folders come back absolute, with Windows' separator, JSON-escaped. */
            char real_replica[PATH_MAX];
            CHECK(_fullpath(real_replica, replica, PATH_MAX) != NULL);
            char *c = json_path(real), *r = json_path(real_replica);
            char *expect = xasprintf("{\"Central\":\"%s\",\"Replica\":\"%s\"}", c, r);
            free(c);
            free(r);
#else
            char *expect = xasprintf("{\"Central\":\"%s\",\"Replica\":\"%s\"}", real, replica);
#endif
            if (!CHECK(out && strcmp(out, expect) == 0)) fprintf(stderr, "    got %s\n    expected %s\n", out, expect);
            free(expect);
        }
        FREE(out);
        /* An empty store. */
        EXPECT_OK(out, xmppfed_partner_list(st, NULL, false, &out));
        CHECK(out && strcmp(out, "[]") == 0);
        FREE(out);
        xmppfed_partner_pages *pages;
        size_t count;
        EXPECT_PAGES_OK(pages, count, xmppfed_partner_list_pages(st, NULL, false, &pages, &count));
        CHECK(count == 0);
        if (pages) {
            /* No page at all: the end at once. */
            const uint8_t *page = PAGE_UNSET;
            size_t page_len = 12345;
            CHECK_RC(xmppfed_partner_pages_next(pages, &page, &page_len), XMPPFED_RESULT_OK);
            CHECK(page == NULL && page_len == 0);
        }
        FREE_PAGES(pages);
        CHECK(CHECK_PAGES_LIKE_LIST(st, "*", false) == 0);
        EXPECT_FAIL(XMPPFED_RESULT_NOT_FOUND, out, xmppfed_partner_get(st, "contoso.com", false, &out));

        test_new(st);
        test_input_too_large(st);
        test_get_and_list(st);
        test_complete(st);
        test_explain(st);
        test_set(st);
        test_set_instance(st);
        test_preview(st, folder ? central : NULL);
        test_remove(st);
        test_replica_and_handles(st, root, central, replica, folder);
        if (folder) test_lock(central, replica);
        test_null_and_utf8(st);
        test_threads(st);

        /* The handle still works after all those failures, and the store survives a reopen. */
        EXPECT_OK(out, xmppfed_partner_list(st, NULL, false, &out));
        char *before_close = out;
        xmppfed_store_close(st);
        xmppfed_store *again = STORE_SENTINEL;
        if (CHECK_RC(xmppfed_store_open(central, replica, &again), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
            EXPECT_OK(out, xmppfed_partner_list(again, NULL, false, &out));
            CHECK(before_close && out && strcmp(before_close, out) == 0);
            FREE(out);
            EXPECT_OK(out, xmppfed_partner_list(again, NULL, true, &out));
            CHECK(before_close && out && strcmp(before_close, out) == 0);
            FREE(out);
            xmppfed_store_close(again);
        }
        FREE(before_close);
        test_transfer_and_history(central, replica, folder);
    }

}

/* Initialize on a folder store: a missing folder is created only when applied, then current. */
static void test_initialize(const char *root) {
    char *out;
    char *central = xasprintf("%s/init-central/nested", root);
    char *replica = xasprintf("%s/init-replica", root);
    xmppfed_store *st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(central, replica, &st), XMPPFED_RESULT_OK) != XMPPFED_RESULT_OK) return;
    EXPECT_OK(out, xmppfed_store_initialize_preview(st, &out));
    CHECK_HAS(out, "\"Kind\":\"Folder\",\"Action\":\"Created\",\"Version\":3");
    FREE(out);
    CHECK(access(central, F_OK) != 0);
    EXPECT_OK(out, xmppfed_store_initialize(st, &out));
    CHECK_HAS(out, "\"Action\":\"Created\"");
    CHECK_HAS(out, "\"Warnings\":[]");
    FREE(out);
    CHECK(access(central, F_OK) == 0);
    EXPECT_OK(out, xmppfed_store_initialize(st, &out));
    CHECK_HAS(out, "\"Action\":\"Current\"");
    FREE(out);
    EXPECT_FAIL_NOOUT(XMPPFED_RESULT_NULL_ARGUMENT, xmppfed_store_initialize(st, NULL));
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_initialize(NULL, &out));
    EXPECT_FAIL(XMPPFED_RESULT_NULL_ARGUMENT, out, xmppfed_store_initialize_preview(NULL, &out));
    xmppfed_store_close(st);
    free(central);
    free(replica);
}

/* Initialize on an empty PostgreSQL schema: the preview creates nothing, then Created, Current. */
static void test_initialize_postgres(const char *conninfo, const char *root) {
    char *out;
    char *replica = xasprintf("%s/init-replica", root);
    xmppfed_store *st = STORE_SENTINEL;
    if (CHECK_RC(xmppfed_store_open(conninfo, replica, &st), XMPPFED_RESULT_OK) == XMPPFED_RESULT_OK) {
        EXPECT_OK(out, xmppfed_store_initialize_preview(st, &out));
        CHECK_HAS(out, "\"Kind\":\"PostgreSQL\",\"Action\":\"Created\",\"Version\":2");
        CHECK_LACKS(out, "password");
        FREE(out);
        EXPECT_OK(out, xmppfed_store_initialize_preview(st, &out)); /* still nothing created */
        CHECK_HAS(out, "\"Action\":\"Created\"");
        FREE(out);
        EXPECT_OK(out, xmppfed_store_initialize(st, &out));
        CHECK_HAS(out, "\"Action\":\"Created\"");
        FREE(out);
        EXPECT_OK(out, xmppfed_store_initialize(st, &out));
        CHECK_HAS(out, "\"Action\":\"Current\"");
        FREE(out);
        xmppfed_store_close(st);
    }
    free(replica);
}

int main(void) {
    char template[] = "/tmp/xmppfed-abi-test-XXXXXX";
#ifdef _WIN32
    const char *tmp = getenv("TEMP");
#else
    const char *tmp = getenv("TMPDIR");
#endif
    char *root_template = tmp && tmp[0] ? xasprintf("%s/xmppfed-abi-test-XXXXXX", tmp) : xstrdup(template);
    char *root = mkdtemp(root_template);
    if (!root) {
        perror("mkdtemp");
        free(root_template);
        printf("0 passed, 1 failed\n");
        return 1;
    }
    /* No configuration from the caller's environment may leak into the test. */
    unsetenv("XMPPFED_STORE");
    unsetenv("XMPPFED_REPLICA");
    unsetenv("XMPPFED_LOCK_TIMEOUT_MS");

    test_static_functions();
    test_open(root);
    test_open_with_environment(root);
    test_status(root);

    char *central = make_dir(root, "central");
    char *replica = xasprintf("%s/replica", root); /* created by the library on the first commit */
    test_store(root, central, replica, 1);
    test_initialize(root);
    const char *pg = getenv("XMPPFED_C_TEST_POSTGRES");
    if (pg && pg[0]) {
        /* The same checks against a PostgreSQL central store (a fresh schema, from tests/c/run.sh). */
        char *pg_root = make_dir(root, "postgres");
        char *pg_replica = xasprintf("%s/replica", pg_root);
        test_initialize_postgres(pg, pg_root);
        test_store(pg_root, pg, pg_replica, 0);
        free(pg_replica);
        free(pg_root);
    }

    free(central);
    free(replica);
    remove_tree(root);
    CHECK(access(root, F_OK) != 0);
    free(root_template);

    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed > 0 ? 1 : 0;
}
