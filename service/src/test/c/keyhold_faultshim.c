/*
 * keyhold_faultshim.c: a fault-injection PKCS#11 module for Keyhold's tests. Test
 * infrastructure, not product. README.md beside this file describes the control keys.
 *
 * It loads the real module (SoftHSMv2), takes its CK_FUNCTION_LIST and hands SunPKCS11 a list
 * of its own whose every entry forwards to the real one, after looking at a control file that
 * says which faults to inject: injected return codes, session invalidation, operations left
 * active after a failed C_Decrypt/C_Sign (as tpm2-pkcs11 does), latency, hung calls and
 * throttling.
 *
 * Build (FaultShim.java does this at test time):
 *   gcc -shared -fPIC -O2 -fvisibility=hidden -o libkeyhold_faultshim.so keyhold_faultshim.c \
 *       -ldl -lpthread [-DSHIM_DEFAULT_TARGET='"/x/libsofthsm2.so"'] [-DSHIM_DEFAULT_CONTROL='"/x/c"']
 * The environment variables KEYHOLD_SHIM_TARGET and KEYHOLD_SHIM_CONTROL override the defaults.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef SHIM_DEFAULT_TARGET
#define SHIM_DEFAULT_TARGET "/usr/lib/softhsm/libsofthsm2.so"
#endif
#ifndef SHIM_DEFAULT_CONTROL
#define SHIM_DEFAULT_CONTROL "" /* none: a pure pass-through */
#endif

/*
 * Minimal PKCS#11 v2.40 declarations. The shim never looks inside a structure, so every pointer
 * argument is a void *; on the LP64 platforms SoftHSM runs on, CK_ULONG is unsigned long and a
 * function pointer (CK_NOTIFY) travels like a data pointer.
 */
typedef unsigned long U; /* CK_ULONG: return codes, handles, slot ids, lengths, flags */
typedef unsigned char CK_BBOOL;
typedef void *P;
typedef struct {
  unsigned char major, minor;
} CK_VERSION;

#define CKR_OK 0x0UL
#define CKR_ARGUMENTS_BAD 0x7UL
#define CKR_GENERAL_ERROR 0x5UL
#define CKR_OPERATION_ACTIVE 0x90UL
#define CKR_BUFFER_TOO_SMALL 0x150UL
#define CKR_FUNCTION_REJECTED 0x200UL

/* Parameter shapes shared by many functions. */
#define INIT_P (U h, P mech, U key)
#define INIT_A (h, mech, key)
#define INOUT_P (U h, P in, U inl, P out, P outl)
#define INOUT_A (h, in, inl, out, outl)
#define UPD_P (U h, P in, U inl)
#define UPD_A (h, in, inl)
#define FIN_P (U h, P out, P outl)
#define FIN_A (h, out, outl)

/* Every entry of CK_FUNCTION_LIST, in order: X(name, session argument or 0, params, args). */
#define FUNCTIONS(X)                                                                  \
  X(C_Initialize, 0, (P a), (a))                                                      \
  X(C_Finalize, 0, (P r), (r))                                                        \
  X(C_GetInfo, 0, (P i), (i))                                                         \
  X(C_GetFunctionList, 0, (P l), (l))                                                 \
  X(C_GetSlotList, 0, (CK_BBOOL t, P l, P n), (t, l, n))                              \
  X(C_GetSlotInfo, 0, (U s, P i), (s, i))                                             \
  X(C_GetTokenInfo, 0, (U s, P i), (s, i))                                            \
  X(C_GetMechanismList, 0, (U s, P l, P n), (s, l, n))                                \
  X(C_GetMechanismInfo, 0, (U s, U m, P i), (s, m, i))                                \
  X(C_InitToken, 0, (U s, P pin, U n, P label), (s, pin, n, label))                   \
  X(C_InitPIN, h, (U h, P pin, U n), (h, pin, n))                                     \
  X(C_SetPIN, h, (U h, P o, U on, P n, U nn), (h, o, on, n, nn))                      \
  X(C_OpenSession, 0, (U s, U f, P app, P notify, P ph), (s, f, app, notify, ph))     \
  X(C_CloseSession, h, (U h), (h))                                                    \
  X(C_CloseAllSessions, 0, (U s), (s))                                                \
  X(C_GetSessionInfo, h, (U h, P i), (h, i))                                          \
  X(C_GetOperationState, h, (U h, P st, P n), (h, st, n))                             \
  X(C_SetOperationState, h, (U h, P st, U n, U ek, U ak), (h, st, n, ek, ak))         \
  X(C_Login, h, (U h, U t, P pin, U n), (h, t, pin, n))                               \
  X(C_Logout, h, (U h), (h))                                                          \
  X(C_CreateObject, h, (U h, P t, U n, P o), (h, t, n, o))                            \
  X(C_CopyObject, h, (U h, U o, P t, U n, P no), (h, o, t, n, no))                    \
  X(C_DestroyObject, h, (U h, U o), (h, o))                                           \
  X(C_GetObjectSize, h, (U h, U o, P n), (h, o, n))                                   \
  X(C_GetAttributeValue, h, (U h, U o, P t, U n), (h, o, t, n))                       \
  X(C_SetAttributeValue, h, (U h, U o, P t, U n), (h, o, t, n))                       \
  X(C_FindObjectsInit, h, (U h, P t, U n), (h, t, n))                                 \
  X(C_FindObjects, h, (U h, P o, U max, P n), (h, o, max, n))                         \
  X(C_FindObjectsFinal, h, (U h), (h))                                                \
  X(C_EncryptInit, h, INIT_P, INIT_A)                                                 \
  X(C_Encrypt, h, INOUT_P, INOUT_A)                                                   \
  X(C_EncryptUpdate, h, INOUT_P, INOUT_A)                                             \
  X(C_EncryptFinal, h, FIN_P, FIN_A)                                                  \
  X(C_DecryptInit, h, INIT_P, INIT_A)                                                 \
  X(C_Decrypt, h, INOUT_P, INOUT_A)                                                   \
  X(C_DecryptUpdate, h, INOUT_P, INOUT_A)                                             \
  X(C_DecryptFinal, h, FIN_P, FIN_A)                                                  \
  X(C_DigestInit, h, (U h, P mech), (h, mech))                                        \
  X(C_Digest, h, INOUT_P, INOUT_A)                                                    \
  X(C_DigestUpdate, h, UPD_P, UPD_A)                                                  \
  X(C_DigestKey, h, (U h, U key), (h, key))                                           \
  X(C_DigestFinal, h, FIN_P, FIN_A)                                                   \
  X(C_SignInit, h, INIT_P, INIT_A)                                                    \
  X(C_Sign, h, INOUT_P, INOUT_A)                                                      \
  X(C_SignUpdate, h, UPD_P, UPD_A)                                                    \
  X(C_SignFinal, h, FIN_P, FIN_A)                                                     \
  X(C_SignRecoverInit, h, INIT_P, INIT_A)                                             \
  X(C_SignRecover, h, INOUT_P, INOUT_A)                                               \
  X(C_VerifyInit, h, INIT_P, INIT_A)                                                  \
  X(C_Verify, h, (U h, P d, U dl, P s, U sl), (h, d, dl, s, sl))                      \
  X(C_VerifyUpdate, h, UPD_P, UPD_A)                                                  \
  X(C_VerifyFinal, h, UPD_P, UPD_A)                                                   \
  X(C_VerifyRecoverInit, h, INIT_P, INIT_A)                                           \
  X(C_VerifyRecover, h, INOUT_P, INOUT_A)                                             \
  X(C_DigestEncryptUpdate, h, INOUT_P, INOUT_A)                                       \
  X(C_DecryptDigestUpdate, h, INOUT_P, INOUT_A)                                       \
  X(C_SignEncryptUpdate, h, INOUT_P, INOUT_A)                                         \
  X(C_DecryptVerifyUpdate, h, INOUT_P, INOUT_A)                                       \
  X(C_GenerateKey, h, (U h, P m, P t, U n, P k), (h, m, t, n, k))                     \
  X(C_GenerateKeyPair, h, (U h, P m, P pt, U pn, P st, U sn, P pk, P sk),             \
    (h, m, pt, pn, st, sn, pk, sk))                                                   \
  X(C_WrapKey, h, (U h, P m, U wk, U k, P out, P outl), (h, m, wk, k, out, outl))     \
  X(C_UnwrapKey, h, (U h, P m, U uk, P in, U inl, P t, U n, P k),                     \
    (h, m, uk, in, inl, t, n, k))                                                     \
  X(C_DeriveKey, h, (U h, P m, U bk, P t, U n, P k), (h, m, bk, t, n, k))             \
  X(C_SeedRandom, h, UPD_P, UPD_A)                                                    \
  X(C_GenerateRandom, h, UPD_P, UPD_A)                                                \
  X(C_GetFunctionStatus, h, (U h), (h))                                               \
  X(C_CancelFunction, h, (U h), (h))                                                  \
  X(C_WaitForSlotEvent, 0, (U f, P s, P r), (f, s, r))

#define AS_ENUM(name, sess, params, args) F_##name,
enum { FUNCTIONS(AS_ENUM) NF };
#define AS_NAME(name, sess, params, args) #name,
static const char *const names[NF] = {FUNCTIONS(AS_NAME)};
#define AS_FIELD(name, sess, params, args) U(*name) params;
struct function_list {
  CK_VERSION version;
  FUNCTIONS(AS_FIELD)
};

static const struct {
  const char *name;
  U rv;
} codes[] = {
    {"CKR_HOST_MEMORY", 0x2},           {"CKR_GENERAL_ERROR", 0x5},
    {"CKR_FUNCTION_FAILED", 0x6},       {"CKR_ARGUMENTS_BAD", 0x7},
    {"CKR_DATA_INVALID", 0x20},         {"CKR_DATA_LEN_RANGE", 0x21},
    {"CKR_DEVICE_ERROR", 0x30},         {"CKR_DEVICE_MEMORY", 0x31},
    {"CKR_DEVICE_REMOVED", 0x32},       {"CKR_ENCRYPTED_DATA_INVALID", 0x40},
    {"CKR_FUNCTION_CANCELED", 0x50},    {"CKR_KEY_HANDLE_INVALID", 0x60},
    {"CKR_OBJECT_HANDLE_INVALID", 0x82}, {"CKR_OPERATION_ACTIVE", 0x90},
    {"CKR_OPERATION_NOT_INITIALIZED", 0x91}, {"CKR_PIN_INCORRECT", 0xA0},
    {"CKR_SESSION_CLOSED", 0xB0},       {"CKR_SESSION_COUNT", 0xB1},
    {"CKR_SESSION_HANDLE_INVALID", 0xB3}, {"CKR_TOKEN_NOT_PRESENT", 0xE0},
    {"CKR_TOKEN_NOT_RECOGNIZED", 0xE1}, {"CKR_USER_NOT_LOGGED_IN", 0x101},
    {"CKR_CRYPTOKI_NOT_INITIALIZED", 0x190}, {"CKR_FUNCTION_REJECTED", 0x200},
};

/* What the control file says. A set holds one flag per function. */
struct control {
  U fail_rv; /* 0: no injected failure */
  long long fail_until_ms; /* 0: for as long as the file says so */
  unsigned char fail_fn[NF], poison_fn[NF], latency_fn[NF], hang_fn[NF], throttle_fn[NF];
  long latency_ms;
  long long invalidate_generation;
  long throttle_n;
  char throttle_id[64];
  double throttle_probability;
  U throttle_rv;
  int trace; /* log every call and its answer to stderr */
  unsigned char corrupt_fn[NF]; /* corrupt_signature: these calls' output gets one bit flipped */
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct function_list *real;
static struct function_list shim;
static char control_path[4096], state_path[4200];
static struct control ctl;
static struct stat seen; /* identity of the control file last parsed */
static int have_file;
static long long applied_generation;
static long throttle_left, armed_throttle_n = -1;
static char armed_throttle_id[64];
static uint64_t rng;
static U *poisoned; /* sessions whose failed operation stays "active" */
static size_t npoisoned, cap_poisoned;
static struct {
  long hung, injected, throttled, operation_active, invalidations;
} stats;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  char *e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = 0;
  return s;
}

/* "C_Sign,C_Decrypt" (or "*" for every function) into a set. */
static void parse_functions(char *v, unsigned char *set) {
  memset(set, 0, NF);
  for (char *save = NULL, *t = strtok_r(v, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
    int found = 0;
    for (int f = 0; f < NF; f++) {
      if (!strcmp(t, "*") || !strcmp(t, names[f])) set[f] = found = 1;
    }
    if (!found) fprintf(stderr, "keyhold-faultshim: unknown function '%s' ignored\n", t);
  }
}

/* A CKR_ name, or a number (0x30, 48). */
static U parse_code(const char *v) {
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    if (!strcmp(v, codes[i].name)) return codes[i].rv;
  }
  char *end;
  U rv = strtoul(v, &end, 0);
  if (*v == 0 || *end != 0 || rv == CKR_OK) {
    fprintf(stderr, "keyhold-faultshim: unknown return code '%s', using CKR_GENERAL_ERROR\n", v);
    return CKR_GENERAL_ERROR;
  }
  return rv;
}

static void write_state_locked(void) {
  if (!state_path[0]) return;
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.%ld.tmp", state_path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  fprintf(f, "hung=%ld\ninjected=%ld\nthrottled=%ld\noperation_active=%ld\ninvalidations=%ld\n"
             "poisoned_sessions=%zu\n",
          stats.hung, stats.injected, stats.throttled, stats.operation_active,
          stats.invalidations, npoisoned);
  fclose(f);
  rename(tmp, state_path);
}

static int is_poisoned(U h) {
  for (size_t i = 0; i < npoisoned; i++) {
    if (poisoned[i] == h) return 1;
  }
  return 0;
}

static void poison(U h) {
  if (is_poisoned(h)) return;
  if (npoisoned == cap_poisoned) {
    size_t cap = cap_poisoned ? cap_poisoned * 2 : 64;
    U *p = realloc(poisoned, cap * sizeof *p);
    if (!p) return;
    poisoned = p, cap_poisoned = cap;
  }
  poisoned[npoisoned++] = h;
  write_state_locked();
}

static void unpoison(U h) {
  for (size_t i = 0; i < npoisoned; i++) {
    if (poisoned[i] == h) {
      poisoned[i] = poisoned[--npoisoned];
      write_state_locked();
      return;
    }
  }
}

/* Every session on every slot is closed in the real module: their handles become invalid. */
static void invalidate_sessions_locked(void) {
  U slots[64];
  U n = 64;
  if (real->C_GetSlotList(0, slots, &n) == CKR_OK) {
    for (U i = 0; i < n && i < 64; i++) real->C_CloseAllSessions(slots[i]);
  }
  npoisoned = 0;
  stats.invalidations++;
  write_state_locked();
}

/* Re-reads the control file when it changed (it is replaced by rename, so its inode changes). */
static void refresh_locked(void) {
  struct stat st;
  if (!control_path[0]) return;
  if (stat(control_path, &st) != 0) {
    if (have_file) {
      long long g = ctl.invalidate_generation;
      memset(&ctl, 0, sizeof ctl);
      ctl.invalidate_generation = g;
      have_file = 0;
    }
    return;
  }
  if (have_file && st.st_ino == seen.st_ino && st.st_dev == seen.st_dev &&
      st.st_size == seen.st_size && st.st_mtim.tv_sec == seen.st_mtim.tv_sec &&
      st.st_mtim.tv_nsec == seen.st_mtim.tv_nsec) {
    return;
  }
  FILE *f = fopen(control_path, "r");
  if (!f) return;
  struct control c;
  memset(&c, 0, sizeof c);
  c.throttle_rv = CKR_FUNCTION_REJECTED;
  c.throttle_fn[F_C_Sign] = c.throttle_fn[F_C_Decrypt] = 1;
  memset(c.fail_fn, 1, NF);
  memset(c.latency_fn, 1, NF);
  c.invalidate_generation = applied_generation;
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    char *eq = strchr(line, '=');
    char *k = trim(line);
    if (*k == '#' || !eq) continue;
    *eq = 0;
    k = trim(k);
    char *v = trim(eq + 1);
    if (!strcmp(k, "fail")) c.fail_rv = parse_code(v);
    else if (!strcmp(k, "fail_functions")) parse_functions(v, c.fail_fn);
    else if (!strcmp(k, "fail_until")) c.fail_until_ms = atoll(v);
    else if (!strcmp(k, "invalidate_sessions")) c.invalidate_generation = atoll(v);
    else if (!strcmp(k, "poison_after_failed")) parse_functions(v, c.poison_fn);
    else if (!strcmp(k, "latency_ms")) c.latency_ms = atol(v);
    else if (!strcmp(k, "latency_functions")) parse_functions(v, c.latency_fn);
    else if (!strcmp(k, "hang")) parse_functions(v, c.hang_fn);
    else if (!strcmp(k, "throttle")) c.throttle_n = atol(v);
    else if (!strcmp(k, "throttle_id")) snprintf(c.throttle_id, sizeof c.throttle_id, "%s", v);
    else if (!strcmp(k, "throttle_probability")) c.throttle_probability = atof(v);
    else if (!strcmp(k, "throttle_code")) c.throttle_rv = parse_code(v);
    else if (!strcmp(k, "throttle_functions")) parse_functions(v, c.throttle_fn);
    else if (!strcmp(k, "trace")) c.trace = atoi(v);
    else if (!strcmp(k, "corrupt_signature")) parse_functions(v, c.corrupt_fn);
    else fprintf(stderr, "keyhold-faultshim: unknown control key '%s' ignored\n", k);
  }
  fclose(f);
  seen = st;
  have_file = 1;
  ctl = c;
  if (c.throttle_n != armed_throttle_n || strcmp(c.throttle_id, armed_throttle_id)) {
    throttle_left = armed_throttle_n = c.throttle_n;
    memcpy(armed_throttle_id, c.throttle_id, sizeof armed_throttle_id);
  }
  if (c.invalidate_generation != applied_generation) {
    applied_generation = c.invalidate_generation;
    invalidate_sessions_locked();
  }
}

static double random_locked(void) { /* xorshift64: good enough to pick calls to throttle */
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static int is_init(int f) {
  return f == F_C_EncryptInit || f == F_C_DecryptInit || f == F_C_DigestInit ||
         f == F_C_SignInit || f == F_C_SignRecoverInit || f == F_C_VerifyInit ||
         f == F_C_VerifyRecoverInit || f == F_C_FindObjectsInit;
}

/*
 * A call that fails ends its operation (PKCS#11 v2.40, 5.2); a failure injected instead of the
 * real call must end the real module's operation too, or the session would keep an active
 * operation that only this shim's tests would see. A single-part call on scratch data and the
 * matching Final end it whatever state it is in; the one that finds no operation does nothing.
 */
static void end_operation(int f, U h) {
  unsigned char b[8192];
  U n;
#define END(single, final) \
  (n = sizeof b, real->single(h, b, 1, b, &n), n = sizeof b, real->final(h, b, &n))
  switch (f) {
    case F_C_Encrypt: case F_C_EncryptUpdate: case F_C_EncryptFinal:
      END(C_Encrypt, C_EncryptFinal); break;
    case F_C_Decrypt: case F_C_DecryptUpdate: case F_C_DecryptFinal:
      END(C_Decrypt, C_DecryptFinal); break;
    case F_C_Digest: case F_C_DigestUpdate: case F_C_DigestKey: case F_C_DigestFinal:
      END(C_Digest, C_DigestFinal); break;
    case F_C_Sign: case F_C_SignUpdate: case F_C_SignFinal:
      END(C_Sign, C_SignFinal); break;
    case F_C_SignRecover:
      n = sizeof b, real->C_SignRecover(h, b, 1, b, &n); break;
    case F_C_Verify: case F_C_VerifyUpdate: case F_C_VerifyFinal:
      real->C_Verify(h, b, 1, b, 1), real->C_VerifyFinal(h, b, 1); break;
    case F_C_VerifyRecover:
      n = sizeof b, real->C_VerifyRecover(h, b, 1, b, &n); break;
    case F_C_FindObjects:
      real->C_FindObjectsFinal(h); break;
    case F_C_DigestEncryptUpdate: END(C_Digest, C_DigestFinal), END(C_Encrypt, C_EncryptFinal); break;
    case F_C_DecryptDigestUpdate: END(C_Decrypt, C_DecryptFinal), END(C_Digest, C_DigestFinal); break;
    case F_C_SignEncryptUpdate: END(C_Sign, C_SignFinal), END(C_Encrypt, C_EncryptFinal); break;
    case F_C_DecryptVerifyUpdate:
      END(C_Decrypt, C_DecryptFinal), real->C_Verify(h, b, 1, b, 1), real->C_VerifyFinal(h, b, 1);
      break;
    default: break; /* not inside an operation */
  }
#undef END
}

/* Decides, before a call is forwarded, whether it waits, sleeps or fails instead. */
static U before(int f, U h) {
  U rv = CKR_OK;
  pthread_mutex_lock(&mu);
  refresh_locked();
  if (ctl.hang_fn[f]) {
    stats.hung++;
    write_state_locked();
    while (ctl.hang_fn[f]) {
      pthread_mutex_unlock(&mu);
      sleep_ms(10);
      pthread_mutex_lock(&mu);
      refresh_locked();
    }
    stats.hung--;
    write_state_locked();
  }
  long latency = ctl.latency_fn[f] ? ctl.latency_ms : 0;
  int injected = 1;
  if (ctl.fail_rv != CKR_OK && ctl.fail_fn[f] &&
      (ctl.fail_until_ms == 0 || now_ms() < ctl.fail_until_ms)) {
    rv = ctl.fail_rv;
    stats.injected++;
  } else if (ctl.throttle_fn[f] &&
             (throttle_left > 0 ||
              (ctl.throttle_probability > 0 && random_locked() < ctl.throttle_probability))) {
    if (throttle_left > 0) throttle_left--;
    rv = ctl.throttle_rv;
    stats.throttled++;
  } else if (is_init(f) && is_poisoned(h)) {
    rv = CKR_OPERATION_ACTIVE;
    stats.operation_active++;
    injected = 0; /* the poisoned session's operation is "active": nothing to end */
  }
  if (rv != CKR_OK) write_state_locked();
  if (rv != CKR_OK && ctl.trace) {
    fprintf(stderr, "keyhold-faultshim: %s(%lu) = 0x%lx (injected)\n", names[f], h, rv);
  }
  pthread_mutex_unlock(&mu);
  if (latency > 0) sleep_ms(latency);
  if (rv != CKR_OK && injected) end_operation(f, h);
  return rv;
}

/* Bookkeeping after the real module answered. */
static void after(int f, U h, U rv) {
  pthread_mutex_lock(&mu);
  if (ctl.trace) fprintf(stderr, "keyhold-faultshim: %s(%lu) = 0x%lx\n", names[f], h, rv);
  if (f == F_C_CloseSession && rv == CKR_OK) {
    unpoison(h);
  } else if (f == F_C_CloseAllSessions && rv == CKR_OK) {
    npoisoned = 0;
  } else if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL && ctl.poison_fn[f]) {
    poison(h);
  }
  pthread_mutex_unlock(&mu);
}

#define AS_WRAPPER(name, sess, params, args)       \
  __attribute__((unused)) static U shim_##name params { \
    U rv = before(F_##name, (U)(sess));            \
    if (rv != CKR_OK) return rv;                   \
    rv = real->name args;                          \
    after(F_##name, (U)(sess), rv);                \
    return rv;                                     \
  }
FUNCTIONS(AS_WRAPPER)

/*
 * corrupt_signature: a successful C_Sign (or C_Decrypt: raw RSA, which the service's PSS signing
 * uses) named there has the last bit of its output flipped, as a faulty HSM would answer. The
 * length query (out == NULL) is left alone.
 */
static void corrupt_output(int f, U rv, P out, P outl) {
  if (rv != CKR_OK || !out || !outl || *(U *)outl == 0) return;
  pthread_mutex_lock(&mu);
  int on = ctl.corrupt_fn[f];
  pthread_mutex_unlock(&mu);
  if (on) ((unsigned char *)out)[*(U *)outl - 1] ^= 0x01;
}
static U corrupting_C_Sign INOUT_P {
  U rv = shim_C_Sign INOUT_A;
  corrupt_output(F_C_Sign, rv, out, outl);
  return rv;
}
static U corrupting_C_Decrypt INOUT_P {
  U rv = shim_C_Decrypt INOUT_A;
  corrupt_output(F_C_Decrypt, rv, out, outl);
  return rv;
}

__attribute__((visibility("default"))) U C_GetFunctionList(P l);

static void load(void) {
  const char *target = getenv("KEYHOLD_SHIM_TARGET");
  const char *control = getenv("KEYHOLD_SHIM_CONTROL");
  if (!target || !*target) target = SHIM_DEFAULT_TARGET;
  if (!control) control = SHIM_DEFAULT_CONTROL;
  snprintf(control_path, sizeof control_path, "%s", control);
  if (*control) snprintf(state_path, sizeof state_path, "%s.state", control);
  rng = (((uint64_t)now_ms() * 6364136223846793005ULL) ^ (uint64_t)getpid()) | 1;
  void *lib = dlopen(target, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "keyhold-faultshim: cannot load %s: %s\n", target, dlerror());
    return;
  }
  U (*get)(P) = (U(*)(P))dlsym(lib, "C_GetFunctionList");
  struct function_list *list = NULL;
  if (!get || get(&list) != CKR_OK || !list) {
    fprintf(stderr, "keyhold-faultshim: %s has no usable C_GetFunctionList\n", target);
    return;
  }
  shim.version = list->version;
#define AS_ENTRY(name, sess, params, args) shim.name = shim_##name;
  FUNCTIONS(AS_ENTRY)
  shim.C_Sign = corrupting_C_Sign;
  shim.C_Decrypt = corrupting_C_Decrypt;
  shim.C_GetFunctionList = C_GetFunctionList;
  real = list;
  write_state_locked();
}

/* The module's one export. SunPKCS11 on JDK 17 looks up C_GetFunctionList only. */
U C_GetFunctionList(P l) {
  if (!l) return CKR_ARGUMENTS_BAD;
  pthread_once(&once, load);
  if (!real) return CKR_GENERAL_ERROR;
  *(struct function_list **)l = &shim;
  return CKR_OK;
}
