/*
 * A small nnconf backend in C, speaking nnconf-exec/1 (docs/external-backends.md) with json-c.
 *
 * Ops: relu, sigmoid, add (with broadcasting and alpha), softmax; float32 only; forward and
 * backward. Everything else is absent from the hello answer, so the harness reports it
 * `unsupported`; softmax with `dtype=` is answered `unsupported` per call.
 *
 * Protocol in one paragraph: read one JSON object per line on stdin, write one per line on
 * stdout (and flush); stderr is free text. "hello" -> say who we are and what we do. "call"
 * -> run the op; with "grad_output", also run its backward and answer the gradients named in
 * "grads". "bye" (or end of input) -> exit.
 */
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXDIM 16

typedef struct {
    int ndim;
    int64_t shape[MAXDIM];
    int64_t n;
    float *data;
} tensor;

/* ---- failures: an error PyTorch would raise, or something this backend does not do ---- */

static const char *fail_kind;   /* "error" or "unsupported" */
static char fail_type[64];
static char fail_msg[1024];

static int fail(const char *kind, const char *type, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fail_kind = kind;
    snprintf(fail_type, sizeof fail_type, "%s", type);
    vsnprintf(fail_msg, sizeof fail_msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- base64 (nnconf/1 b64: little-endian IEEE-754 bytes) ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *p, size_t n) {
    char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *o++ = B64[v >> 18 & 63];
        *o++ = B64[v >> 12 & 63];
        *o++ = i + 1 < n ? B64[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? B64[v & 63] : '=';
    }
    *o = 0;
    return out;
}

static int b64_value(char c) {
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

/* Decodes into out (capacity cap bytes); returns the byte count or -1. */
static long b64_decode(const char *s, unsigned char *out, size_t cap) {
    size_t len = strlen(s), k = 0;
    if (len % 4) return -1;
    for (size_t i = 0; i < len; i += 4) {
        int a = b64_value(s[i]), b = b64_value(s[i + 1]);
        int c = s[i + 2] == '=' ? 0 : b64_value(s[i + 2]), d = s[i + 3] == '=' ? 0 : b64_value(s[i + 3]);
        if (a < 0 || b < 0 || c < 0 || d < 0) return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        unsigned char bytes[3] = {v >> 16, v >> 8 & 255, v & 255};
        int count = s[i + 2] == '=' ? 1 : s[i + 3] == '=' ? 2 : 3;
        for (int j = 0; j < count; j++) {
            if (k >= cap) return -1;
            out[k++] = bytes[j];
        }
    }
    return (long)k;
}

/* ---- tensors <-> JSON ---- */

static tensor *tensor_new(int ndim, const int64_t *shape) {
    tensor *t = calloc(1, sizeof *t);
    t->ndim = ndim;
    t->n = 1;
    for (int i = 0; i < ndim; i++) t->n *= (t->shape[i] = shape[i]);
    t->data = calloc(t->n ? t->n : 1, sizeof(float));
    return t;
}

static void tensor_free(tensor *t) {
    if (t) free(t->data);
    free(t);
}

static int is_tensor(json_object *o) {
    return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "shape", NULL);
}

/* A float32 tensor from {"shape", "dtype", "b64"|"data"}; NULL (with a failure) otherwise. */
static tensor *tensor_from_json(json_object *o, const char *name) {
    json_object *shape, *dtype, *b64, *data;
    if (!is_tensor(o)) {
        fail("error", "TypeError", "argument '%s' must be Tensor", name);
        return NULL;
    }
    json_object_object_get_ex(o, "shape", &shape);
    if (!json_object_object_get_ex(o, "dtype", &dtype) || strcmp(json_object_get_string(dtype), "float32")) {
        fail("unsupported", "", "this backend computes in float32 only, '%s' is %s", name,
             dtype ? json_object_get_string(dtype) : "untyped");
        return NULL;
    }
    int ndim = (int)json_object_array_length(shape);
    if (ndim > MAXDIM) {
        fail("unsupported", "", "more than %d dimensions", MAXDIM);
        return NULL;
    }
    int64_t dims[MAXDIM];
    for (int i = 0; i < ndim; i++) dims[i] = json_object_get_int64(json_object_array_get_idx(shape, i));
    tensor *t = tensor_new(ndim, dims);
    if (json_object_object_get_ex(o, "b64", &b64)) {
        /* IEEE-754 little-endian bytes; this example assumes a little-endian machine. */
        if (b64_decode(json_object_get_string(b64), (unsigned char *)t->data, (size_t)t->n * 4) != t->n * 4) {
            fail("error", "BackendError", "bad b64 data for '%s'", name);
            tensor_free(t);
            return NULL;
        }
    } else if (json_object_object_get_ex(o, "data", &data) && (int64_t)json_object_array_length(data) == t->n) {
        for (int64_t i = 0; i < t->n; i++) {
            json_object *v = json_object_array_get_idx(data, i);
            if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);
                t->data[i] = !strcmp(s, "nan") ? NAN : !strcmp(s, "-inf") ? -INFINITY : INFINITY;
            } else {
                t->data[i] = (float)json_object_get_double(v);
            }
        }
    } else {
        fail("error", "BackendError", "tensor '%s' has no b64 or data of the right length", name);
        tensor_free(t);
        return NULL;
    }
    return t;
}

static json_object *tensor_to_json(const tensor *t) {
    json_object *o = json_object_new_object(), *shape = json_object_new_array();
    for (int i = 0; i < t->ndim; i++) json_object_array_add(shape, json_object_new_int64(t->shape[i]));
    json_object_object_add(o, "shape", shape);
    json_object_object_add(o, "dtype", json_object_new_string("float32"));
    char *b64 = b64_encode((const unsigned char *)t->data, (size_t)t->n * 4);
    json_object_object_add(o, "b64", json_object_new_string(b64));
    free(b64);
    return o;
}

/* A Python number argument (int or float); `fallback` when absent or null. */
static int number_arg(json_object *args, const char *name, double fallback, double *out) {
    json_object *v;
    *out = fallback;
    if (!json_object_object_get_ex(args, name, &v) || v == NULL) return 0;
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
        *out = json_object_get_double(v);
        return 0;
    }
    return fail("error", "TypeError", "argument '%s' must be Number", name);
}

/* ---- ops: forward computes `out`; backward (when grad_output is given) fills grads ---- */

typedef struct {
    json_object *args;
    const tensor *grad_output;  /* NULL for a forward call */
    json_object *grads_out;     /* {"input": T, ...} for a backward call */
    json_object *wanted;        /* names in "grads" */
    json_object *warnings;      /* [{"category", "message"}] */
} call_ctx;

static int wants(const call_ctx *c, const char *name) {
    if (!c->wanted) return 0;
    for (size_t i = 0; i < json_object_array_length(c->wanted); i++)
        if (!strcmp(json_object_get_string(json_object_array_get_idx(c->wanted, i)), name)) return 1;
    return 0;
}

static tensor *input_arg(const call_ctx *c, const char *name) {
    json_object *o = NULL;
    if (!json_object_object_get_ex(c->args, name, &o)) {
        fail("error", "TypeError", "missing required argument '%s'", name);
        return NULL;
    }
    return tensor_from_json(o, name);
}

static tensor *op_relu(call_ctx *c) {
    tensor *x = input_arg(c, "input");
    if (!x) return NULL;
    tensor *y = tensor_new(x->ndim, x->shape);
    for (int64_t i = 0; i < x->n; i++) y->data[i] = x->data[i] > 0 || isnan(x->data[i]) ? x->data[i] : 0.0f;
    if (c->grad_output && wants(c, "input")) {
        tensor *g = tensor_new(x->ndim, x->shape);
        /* ATen's threshold_backward: zero where result <= 0, so a NaN lets the gradient through */
        for (int64_t i = 0; i < x->n; i++) g->data[i] = y->data[i] <= 0 ? 0.0f : c->grad_output->data[i];
        json_object_object_add(c->grads_out, "input", tensor_to_json(g));
        tensor_free(g);
    }
    tensor_free(x);
    return y;
}

static tensor *op_sigmoid(call_ctx *c) {
    tensor *x = input_arg(c, "input");
    if (!x) return NULL;
    tensor *y = tensor_new(x->ndim, x->shape);
    for (int64_t i = 0; i < x->n; i++) y->data[i] = 1.0f / (1.0f + expf(-x->data[i]));
    if (c->grad_output && wants(c, "input")) {
        tensor *g = tensor_new(x->ndim, x->shape);
        for (int64_t i = 0; i < x->n; i++) g->data[i] = c->grad_output->data[i] * (1.0f - y->data[i]) * y->data[i];
        json_object_object_add(c->grads_out, "input", tensor_to_json(g));
        tensor_free(g);
    }
    tensor_free(x);
    return y;
}

/* Offset into a tensor of shape `s` (right-aligned in `nd` dims, size-1 dims broadcast) of the
 * output element with multi-index `idx`. */
static int64_t broadcast_offset(const tensor *t, int nd, const int64_t *idx) {
    int64_t off = 0;
    for (int d = 0; d < t->ndim; d++) {
        int64_t i = idx[nd - t->ndim + d];
        off = off * t->shape[d] + (t->shape[d] == 1 ? 0 : i);
    }
    return off;
}

static tensor *op_add(call_ctx *c) {
    double alpha;
    if (number_arg(c->args, "alpha", 1.0, &alpha)) return NULL;
    tensor *a = input_arg(c, "input");
    if (!a) return NULL;
    json_object *other_json = NULL;
    json_object_object_get_ex(c->args, "other", &other_json);
    tensor *b;
    int other_is_tensor = is_tensor(other_json);
    if (other_is_tensor) {
        if (!(b = tensor_from_json(other_json, "other"))) return tensor_free(a), NULL;
    } else {  /* a Python number: a 0-dim operand that does not change the result's dtype */
        double v;
        if (!other_json || number_arg(c->args, "other", 0, &v)) {
            tensor_free(a);
            if (!other_json) fail("error", "TypeError", "missing required argument 'other'");
            return NULL;
        }
        b = tensor_new(0, NULL);
        b->data[0] = (float)v;
    }
    /* Broadcast shapes, from the last dimension, with PyTorch's message. */
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t shape[MAXDIM];
    for (int d = nd - 1; d >= 0; d--) {
        int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
        int64_t sa = da >= 0 ? a->shape[da] : 1, sb = db >= 0 ? b->shape[db] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            fail("error", "RuntimeError", "The size of tensor a (%lld) must match the size of tensor b (%lld) at non-singleton dimension %d",
                 (long long)sa, (long long)sb, d);
            tensor_free(a), tensor_free(b);
            return NULL;
        }
        shape[d] = sa == 1 ? sb : sa;
    }
    tensor *y = tensor_new(nd, shape);
    tensor *ga = c->grad_output ? tensor_new(a->ndim, a->shape) : NULL;
    tensor *gb = c->grad_output ? tensor_new(b->ndim, b->shape) : NULL;
    int64_t idx[MAXDIM] = {0};
    for (int64_t i = 0; i < y->n; i++) {
        int64_t oa = broadcast_offset(a, nd, idx), ob = broadcast_offset(b, nd, idx);
        y->data[i] = fmaf((float)alpha, b->data[ob], a->data[oa]);  /* as ATen: a + alpha * b, fused */
        if (ga) {
            ga->data[oa] += c->grad_output->data[i];
            gb->data[ob] += c->grad_output->data[i] * (float)alpha;
        }
        for (int d = nd - 1; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
    }
    if (ga && wants(c, "input")) json_object_object_add(c->grads_out, "input", tensor_to_json(ga));
    if (gb && other_is_tensor && wants(c, "other")) json_object_object_add(c->grads_out, "other", tensor_to_json(gb));
    tensor_free(ga), tensor_free(gb), tensor_free(a), tensor_free(b);
    return y;
}

static tensor *op_softmax(call_ctx *c) {
    json_object *v = NULL;
    if (json_object_object_get_ex(c->args, "dtype", &v) && v != NULL)
        return fail("unsupported", "", "softmax with dtype=%s is not implemented here", json_object_get_string(v)), NULL;
    tensor *x = input_arg(c, "input");
    if (!x) return NULL;
    int64_t dim;
    if (!json_object_object_get_ex(c->args, "dim", &v) || v == NULL) {
        /* torch.nn.functional._get_softmax_dim */
        dim = (x->ndim == 0 || x->ndim == 1 || x->ndim == 3) ? 0 : 1;
        json_object *w = json_object_new_object();
        json_object_object_add(w, "category", json_object_new_string("UserWarning"));
        json_object_object_add(w, "message", json_object_new_string(
            "Implicit dimension choice for softmax has been deprecated. Change the call to include dim=X as an argument."));
        json_object_array_add(c->warnings, w);
    } else {
        dim = json_object_get_int64(v);
    }
    int r = x->ndim > 0 ? x->ndim : 1;
    if (dim < -r || dim >= r) {
        fail("error", "IndexError", "Dimension out of range (expected to be in range of [%d, %d], but got %lld)", -r, r - 1, (long long)dim);
        tensor_free(x);
        return NULL;
    }
    if (dim < 0) dim += r;
    int64_t size = x->ndim ? x->shape[dim] : 1, inner = 1, outer = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (d < dim) outer *= x->shape[d];
        if (d > dim) inner *= x->shape[d];
    }
    tensor *y = tensor_new(x->ndim, x->shape);
    tensor *g = c->grad_output && wants(c, "input") ? tensor_new(x->ndim, x->shape) : NULL;
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t in = 0; in < inner; in++) {
            const float *xs = x->data + o * size * inner + in;
            float *ys = y->data + o * size * inner + in;
            float m = -INFINITY, sum = 0;
            for (int64_t k = 0; k < size; k++) m = fmaxf(m, xs[k * inner]);
            for (int64_t k = 0; k < size; k++) sum += (ys[k * inner] = expf(xs[k * inner] - m));
            for (int64_t k = 0; k < size; k++) ys[k * inner] /= sum;
            if (g) {  /* dx = y * (dy - sum(dy * y)) */
                const float *gy = c->grad_output->data + o * size * inner + in;
                float dot = 0;
                for (int64_t k = 0; k < size; k++) dot += gy[k * inner] * ys[k * inner];
                for (int64_t k = 0; k < size; k++) g->data[o * size * inner + in + k * inner] = ys[k * inner] * (gy[k * inner] - dot);
            }
        }
    }
    if (g) json_object_object_add(c->grads_out, "input", tensor_to_json(g));
    tensor_free(g);
    tensor_free(x);
    return y;
}

static const struct {
    const char *name;
    tensor *(*run)(call_ctx *);
} OPS[] = {{"relu", op_relu}, {"sigmoid", op_sigmoid}, {"add", op_add}, {"softmax", op_softmax}};
#define NOPS (sizeof OPS / sizeof OPS[0])

/* ---- the protocol loop ---- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static json_object *hello(void) {
    json_object *o = json_object_new_object(), *ops = json_object_new_array(), *dtypes = json_object_new_array();
    for (size_t i = 0; i < NOPS; i++) json_object_array_add(ops, json_object_new_string(OPS[i].name));
    json_object_array_add(dtypes, json_object_new_string("float32"));
    json_object_object_add(o, "nnconf-exec", json_object_new_int(1));
    json_object_object_add(o, "type", json_object_new_string("hello"));
    json_object_object_add(o, "name", json_object_new_string("c-example"));
    json_object_object_add(o, "version", json_object_new_string("0.1"));
    json_object_object_add(o, "ops", ops);
    json_object_object_add(o, "dtypes", dtypes);
    json_object_object_add(o, "backward", json_object_new_boolean(1));
    json_object_object_add(o, "programs", json_object_new_boolean(0));
    json_object_object_add(o, "details", json_object_new_string("plain C loops, json-c " JSON_C_VERSION));
    return o;
}

static json_object *call(json_object *msg) {
    json_object *id = NULL, *op = NULL, *args = NULL, *gout = NULL, *answer = json_object_new_object();
    json_object_object_get_ex(msg, "id", &id);
    json_object_object_get_ex(msg, "op", &op);
    json_object_object_get_ex(msg, "args", &args);
    json_object_object_get_ex(msg, "grad_output", &gout);
    json_object_object_add(answer, "id", json_object_get(id));

    call_ctx c = {.args = args, .warnings = json_object_new_array()};
    tensor *(*run)(call_ctx *) = NULL;
    for (size_t i = 0; i < NOPS; i++)
        if (op && !strcmp(json_object_get_string(op), OPS[i].name)) run = OPS[i].run;
    tensor *grad_output = NULL, *y = NULL;
    fail_kind = NULL;
    if (!run) {
        fail("unsupported", "", "no op named '%s' here", op ? json_object_get_string(op) : "?");
    } else if (gout && !(grad_output = tensor_from_json(gout, "grad_output"))) {
        /* failure set */
    } else {
        c.grad_output = grad_output;
        if (grad_output) {
            c.grads_out = json_object_new_object();
            json_object_object_get_ex(msg, "grads", &c.wanted);
        }
        double start = now_ms();
        y = run(&c);
        double ms = now_ms() - start;
        if (y && grad_output && y->n != grad_output->n) {
            fail("error", "RuntimeError", "grad_output has %lld elements, the output %lld", (long long)grad_output->n, (long long)y->n);
        } else if (y) {
            json_object *timing = json_object_new_object();
            json_object_object_add(answer, "type", json_object_new_string("result"));
            if (grad_output) {  /* a backward answer: the gradients (recomputing the forward is fine) */
                json_object_object_add(answer, "grads", json_object_get(c.grads_out));
                json_object_object_add(timing, "backward", json_object_new_double(ms));
            } else {
                json_object_object_add(answer, "output", tensor_to_json(y));
                json_object_object_add(timing, "forward", json_object_new_double(ms));
                if (json_object_array_length(c.warnings)) json_object_object_add(answer, "warnings", json_object_get(c.warnings));
            }
            json_object_object_add(answer, "timing_ms", timing);
        }
    }
    if (fail_kind) {
        json_object_object_add(answer, "type", json_object_new_string(fail_kind));
        if (!strcmp(fail_kind, "unsupported")) {
            json_object_object_add(answer, "reason", json_object_new_string(fail_msg));
        } else {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "type", json_object_new_string(fail_type));
            json_object_object_add(e, "message", json_object_new_string(fail_msg));
            json_object_object_add(answer, "error", e);
        }
    }
    tensor_free(y);
    tensor_free(grad_output);
    json_object_put(c.grads_out);
    json_object_put(c.warnings);
    return answer;
}

int main(void) {
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0) {
        json_object *msg = json_tokener_parse(line), *type = NULL, *answer;
        if (!msg || !json_object_object_get_ex(msg, "type", &type)) {
            fprintf(stderr, "c-example: not a protocol message: %.80s\n", line);
            json_object_put(msg);
            continue;
        }
        const char *t = json_object_get_string(type);
        if (!strcmp(t, "bye")) {
            json_object_put(msg);
            break;
        }
        answer = !strcmp(t, "hello") ? hello() : call(msg);
        puts(json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        fflush(stdout);
        json_object_put(answer);
        json_object_put(msg);
    }
    free(line);
    return 0;
}
