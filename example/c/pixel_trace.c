/*
 * pixel_trace.c - C reference for the embedded example: the single-pixel
 * chain of the nanoBragg diffraction simulator (MOSFLM convention, beam pivot,
 * parallelepiped crystal with the sincg lattice factor), computed for the one
 * pixel named by -trace_pixel and printed as TRACE_C lines.
 *
 * It models the public nanoBragg program closely enough to reproduce, to
 * round-off, the numbers that program prints for the same flags, including
 * two of its quirks: the beam_center_m set-up line divides metres by 1000
 * again, and the crystal orientation is only re-rotated when phi != 0, so a
 * phi step at exactly 0 reuses the orientation of the previous phi pass.
 *
 * It knows nothing about the evidence tool that compares its output.
 *
 * Build: cc -O2 -fno-fast-math -ffp-contract=off -o build/pixel_trace example/c/pixel_trace.c -lm
 * Exit codes: 0 success, 1 unreadable input file, 2 bad command line.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_INPUT 1
#define EXIT_USAGE 2

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* 1/pi as the C library's M_1_PI; nanoBragg converts degrees with 180/pi built from it. */
static const double ONE_OVER_PI = 0.31830988618379067154;
/* Thomson cross-section of the electron, r_e^2 in m^2, as nanoBragg hard-codes it. */
static const double ELECTRON_RADIUS_SQR = 7.94079248018965e-30;
/* nanoBragg's default integrated fluence in photons/m^2. */
static const double DEFAULT_FLUENCE = 125932015286227086360700780544.0;
/* Sources sit this far up-beam (m); only their direction matters here. */
static const double SOURCE_DISTANCE = 10.0;

typedef struct {
    double x, y, z;
} Vec3;

static Vec3 vec3(double x, double y, double z)
{
    Vec3 v;
    v.x = x;
    v.y = y;
    v.z = z;
    return v;
}

static double dot3(Vec3 u, Vec3 v) { return u.x * v.x + u.y * v.y + u.z * v.z; }

static Vec3 cross3(Vec3 u, Vec3 v)
{
    return vec3(u.y * v.z - u.z * v.y, u.z * v.x - u.x * v.z, u.x * v.y - u.y * v.x);
}

static double length3(Vec3 v) { return sqrt(v.x * v.x + v.y * v.y + v.z * v.z); }

static Vec3 scale3(Vec3 v, double s) { return vec3(s * v.x, s * v.y, s * v.z); }

/* Unit vector along v (the zero vector stays zero); *length receives |v|. */
static Vec3 unit3(Vec3 v, double *length)
{
    double n = length3(v);
    if (length != NULL) *length = n;
    if (n == 0.0) return vec3(0.0, 0.0, 0.0);
    return vec3(v.x / n, v.y / n, v.z / n);
}

/* v stretched to the given length (a zero vector is treated as having length 1). */
static Vec3 with_length3(Vec3 v, double length)
{
    double old = length3(v);
    if (old <= 0.0) old = 1.0;
    return vec3(length / old * v.x, length / old * v.y, length / old * v.z);
}

/* Right-handed rotation of v by angle (radians) about a unit axis (Rodrigues). */
static Vec3 rotate_about(Vec3 v, Vec3 axis, double angle)
{
    double s = sin(angle);
    double c = cos(angle);
    double along = (axis.x * v.x + axis.y * v.y + axis.z * v.z) * (1.0 - c);
    return vec3(axis.x * along + v.x * c + (-axis.z * v.y + axis.y * v.z) * s,
                axis.y * along + v.y * c + (+axis.z * v.x - axis.x * v.z) * s,
                axis.z * along + v.z * c + (-axis.y * v.x + axis.x * v.y) * s);
}

/* ------------------------------------------------------------------------- */
/* Command line                                                              */

typedef struct {
    int have_cell;
    double cell[6]; /* a b c in Angstrom, alpha beta gamma in degrees */
    double default_F;
    const char *hkl_path;
    double lambda_A;
    double distance_mm;
    double pixel_mm;
    int detpixels; /* 0 = not given */
    double Na, Nb, Nc;
    int oversample; /* <= 0 = choose automatically, as nanoBragg does */
    double phi_deg;
    double osc_deg; /* < 0 = not given */
    int phisteps;   /* < 0 = not given */
    int have_Xbeam, have_Ybeam;
    double Xbeam_mm, Ybeam_mm;
    double kahn;
    double fluence;
    int have_trace;
    int trace_slow, trace_fast;
} Options;

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "pixel_trace: ");
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\n");
    exit(EXIT_USAGE);
}

static double number_arg(const char *flag, const char *text)
{
    char *end = NULL;
    double value;
    errno = 0;
    value = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(value))
        usage_error("%s expects a number, got '%s'", flag, text);
    return value;
}

static int integer_arg(const char *flag, const char *text)
{
    char *end = NULL;
    long value;
    errno = 0;
    value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || value > 1000000000L || value < -1000000000L)
        usage_error("%s expects an integer, got '%s'", flag, text);
    return (int) value;
}

/* Flags take one leading dash, as nanoBragg's do; a second dash is tolerated. */
static const char *flag_name(const char *arg)
{
    if (arg[0] != '-') return NULL;
    if (arg[1] == '-') return arg + 2;
    return arg + 1;
}

static Options parse_options(int argc, char **argv)
{
    Options o;
    int i;
    memset(&o, 0, sizeof o);
    o.lambda_A = 1.0;
    o.distance_mm = 100.0;
    o.pixel_mm = 0.1;
    o.Na = o.Nb = o.Nc = 1.0;
    o.oversample = -1;
    o.osc_deg = -1.0;
    o.phisteps = -1;
    o.fluence = DEFAULT_FLUENCE;

    for (i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        const char *name = flag_name(arg);
        int need = 1;
        if (name == NULL) usage_error("unexpected argument '%s'", arg);
        if (strcmp(name, "cell") == 0) need = 6;
        else if (strcmp(name, "trace_pixel") == 0) need = 2;
        if (i + need >= argc) usage_error("%s expects %d value%s", arg, need, need == 1 ? "" : "s");
        if (strcmp(name, "cell") == 0) {
            int k;
            for (k = 0; k < 6; ++k) o.cell[k] = number_arg(arg, argv[i + 1 + k]);
            o.have_cell = 1;
        } else if (strcmp(name, "default_F") == 0) {
            o.default_F = number_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "hkl") == 0) {
            o.hkl_path = argv[i + 1];
        } else if (strcmp(name, "lambda") == 0) {
            o.lambda_A = number_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "distance") == 0) {
            o.distance_mm = number_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "pixel") == 0) {
            o.pixel_mm = number_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "detpixels") == 0) {
            o.detpixels = integer_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "N") == 0) {
            o.Na = o.Nb = o.Nc = integer_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "Na") == 0) {
            o.Na = integer_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "Nb") == 0) {
            o.Nb = integer_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "Nc") == 0) {
            o.Nc = integer_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "oversample") == 0) {
            o.oversample = integer_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "phi") == 0) {
            o.phi_deg = number_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "osc") == 0) {
            o.osc_deg = number_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "phisteps") == 0) {
            o.phisteps = integer_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "Xbeam") == 0) {
            o.Xbeam_mm = number_arg(arg, argv[i + 1]);
            o.have_Xbeam = 1;
        } else if (strcmp(name, "Ybeam") == 0) {
            o.Ybeam_mm = number_arg(arg, argv[i + 1]);
            o.have_Ybeam = 1;
        } else if (strcmp(name, "polar") == 0) {
            o.kahn = number_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "fluence") == 0) {
            o.fluence = number_arg(arg, argv[i + 1]);
        } else if (strcmp(name, "trace_pixel") == 0) {
            o.trace_slow = integer_arg(arg, argv[i + 1]);
            o.trace_fast = integer_arg(arg, argv[i + 2]);
            o.have_trace = 1;
        } else {
            usage_error("unknown flag %s", arg);
        }
        i += need;
    }

    if (!o.have_cell) usage_error("-cell a b c alpha beta gamma is required");
    if (!o.have_trace) usage_error("-trace_pixel SLOW FAST is required");
    if (o.hkl_path == NULL && o.default_F == 0.0)
        usage_error("give structure factors with -hkl FILE or -default_F F");
    if (!(o.lambda_A > 0.0)) usage_error("-lambda must be positive");
    if (!(o.distance_mm > 0.0)) usage_error("-distance must be positive");
    if (!(o.pixel_mm > 0.0)) usage_error("-pixel must be positive");
    if (o.detpixels < 0) usage_error("-detpixels must not be negative");
    return o;
}

/* ------------------------------------------------------------------------- */
/* Structure factors                                                         */

typedef struct {
    int count; /* reflections read; 0 means every F is default_F */
    int h_min, h_max, k_min, k_max, l_min, l_max;
    double *F; /* dense box h_min..h_max x k_min..k_max x l_min..l_max */
    double default_F;
} HklTable;

static HklTable load_hkl(const char *path, double default_F)
{
    HklTable t;
    FILE *f;
    double row[4];
    long nh, nk, nl, n;
    memset(&t, 0, sizeof t);
    t.default_F = default_F;
    if (path == NULL) return t;

    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "pixel_trace: cannot read -hkl file '%s': %s\n", path, strerror(errno));
        exit(EXIT_INPUT);
    }
    /* Like nanoBragg, read "h k l F" quadruples until the first thing that is not one. */
    t.h_min = t.k_min = t.l_min = 1000000000;
    t.h_max = t.k_max = t.l_max = -1000000000;
    while (fscanf(f, "%lg%lg%lg%lg", &row[0], &row[1], &row[2], &row[3]) == 4) {
        int h = (int) row[0], k = (int) row[1], l = (int) row[2];
        if (h < t.h_min) t.h_min = h;
        if (h > t.h_max) t.h_max = h;
        if (k < t.k_min) t.k_min = k;
        if (k > t.k_max) t.k_max = k;
        if (l < t.l_min) t.l_min = l;
        if (l > t.l_max) t.l_max = l;
        ++t.count;
    }
    if (t.count == 0) {
        fprintf(stderr, "pixel_trace: no 'h k l F' lines in -hkl file '%s'\n", path);
        exit(EXIT_INPUT);
    }
    nh = t.h_max - t.h_min + 1;
    nk = t.k_max - t.k_min + 1;
    nl = t.l_max - t.l_min + 1;
    t.F = malloc(sizeof(double) * (size_t) (nh * nk * nl));
    if (t.F == NULL) {
        fprintf(stderr, "pixel_trace: -hkl index range too large in '%s'\n", path);
        exit(EXIT_INPUT);
    }
    for (n = 0; n < nh * nk * nl; ++n) t.F[n] = default_F;
    rewind(f);
    while (fscanf(f, "%lg%lg%lg%lg", &row[0], &row[1], &row[2], &row[3]) == 4) {
        long h = (int) row[0] - t.h_min, k = (int) row[1] - t.k_min, l = (int) row[2] - t.l_min;
        t.F[(h * nk + k) * nl + l] = row[3];
    }
    fclose(f);
    return t;
}

/* Nearest-neighbour structure factor; indices outside the file's box get default_F. */
static double lookup_F(const HklTable *t, int h, int k, int l)
{
    long nk, nl;
    if (t->count == 0) return t->default_F;
    if (h < t->h_min || h > t->h_max || k < t->k_min || k > t->k_max || l < t->l_min || l > t->l_max)
        return t->default_F;
    nk = t->k_max - t->k_min + 1;
    nl = t->l_max - t->l_min + 1;
    return t->F[((long) (h - t->h_min) * nk + (k - t->k_min)) * nl + (l - t->l_min)];
}

/* ------------------------------------------------------------------------- */
/* Crystal                                                                   */

typedef struct {
    Vec3 a, b, c;                /* real-space cell vectors in metres, phi = 0 */
    Vec3 a_star, b_star, c_star; /* reciprocal vectors in 1/Angstrom */
    double a_len_m, b_len_m, c_len_m;
} Crystal;

/*
 * Cell from lengths and angles: reciprocal vectors in the standard orientation
 * (a* along x, b* in the xy plane), real vectors from their cross products with
 * the volume enforced, then reciprocal vectors regenerated from the real ones.
 */
static Crystal build_crystal(const double cell[6], double rtd)
{
    Crystal x;
    double a = cell[0], b = cell[1], c = cell[2];
    double alpha = cell[3] / rtd, beta = cell[4] / rtd, gamma = cell[5] / rtd;
    double half_sum, skew, V_cell, V_star;
    double as_len, bs_len, cs_len;
    double sin_gs, cos_as, cos_bs, cos_gs;
    Vec3 as, bs, cs, bs_x_cs, cs_x_as, as_x_bs, ra, rb, rc;

    if (b <= 0.0) b = a;
    if (c <= 0.0) c = a;
    if (alpha <= 0.0) alpha = M_PI / 2;
    if (beta <= 0.0) beta = M_PI / 2;
    if (gamma <= 0.0) gamma = M_PI / 2;

    half_sum = (alpha + beta + gamma) / 2;
    skew = sin(half_sum) * sin(half_sum - alpha) * sin(half_sum - beta) * sin(half_sum - gamma);
    if (skew < 0.0) skew = -skew;
    V_cell = 2.0 * a * b * c * sqrt(skew);
    if (V_cell <= 0.0) V_cell = 2.2250738585072014e-308;
    V_star = 1.0 / V_cell;

    as_len = fabs(b * c * sin(alpha) * V_star);
    bs_len = fabs(c * a * sin(beta) * V_star);
    cs_len = fabs(a * b * sin(gamma) * V_star);

    sin_gs = c * V_star / as_len / bs_len;
    cos_as = (cos(beta) * cos(gamma) - cos(alpha)) / (sin(beta) * sin(gamma));
    cos_bs = (cos(gamma) * cos(alpha) - cos(beta)) / (sin(gamma) * sin(alpha));
    cos_gs = (cos(alpha) * cos(beta) - cos(gamma)) / (sin(alpha) * sin(beta));
    if (sin_gs > 1.0) sin_gs = 1.0;
    if (sin_gs < -1.0) sin_gs = -1.0;
    /* nanoBragg clamps an out-of-range cosine to +1 whatever its sign */
    if (cos_as * cos_as > 1.0) cos_as = 1.0;
    if (cos_bs * cos_bs > 1.0) cos_bs = 1.0;
    if (cos_gs * cos_gs > 1.0) cos_gs = 1.0;

    as = vec3(as_len, 0.0, 0.0);
    bs = vec3(bs_len * cos_gs, bs_len * sin_gs, 0.0);
    cs = vec3(cs_len * cos_bs, cs_len * (cos_as - cos_bs * cos_gs) / sin_gs,
              cs_len * V_cell / (a * b * c * sin_gs));

    /* b* x c* must have length a/V (and cyclically) for the requested cell to hold */
    bs_x_cs = with_length3(cross3(bs, cs), a / V_cell);
    cs_x_as = with_length3(cross3(cs, as), b / V_cell);
    as_x_bs = with_length3(cross3(as, bs), c / V_cell);
    V_star = 1.0 / V_cell;
    V_cell = 1.0 / V_star;

    ra = scale3(bs_x_cs, V_cell);
    rb = scale3(cs_x_as, V_cell);
    rc = scale3(as_x_bs, V_cell);

    x.a_star = scale3(cross3(rb, rc), V_star);
    x.b_star = scale3(cross3(rc, ra), V_star);
    x.c_star = scale3(cross3(ra, rb), V_star);

    x.a = scale3(ra, 1e-10);
    x.b = scale3(rb, 1e-10);
    x.c = scale3(rc, 1e-10);
    x.a_len_m = length3(x.a);
    x.b_len_m = length3(x.b);
    x.c_len_m = length3(x.c);
    return x;
}

/* Lattice transform of N unit cells along one axis: sin(N x)/sin(x), N at x = 0. */
static double sincg(double x, double N)
{
    if (x == 0.0) return N;
    return sin(x * N) / sin(x);
}

/* ------------------------------------------------------------------------- */
/* Detector and beam (MOSFLM convention, detector pivoting about the beam)   */

typedef struct {
    Vec3 fdet, sdet, odet, beam, polar_axis, spindle;
    Vec3 pix0;
    double pixel_m;
    int fpixels, spixels;
    double close_distance_m;
    double distance_m;
} Detector;

static Detector setup_detector(const Options *o)
{
    Detector d;
    double pixel = o->pixel_mm / 1000.0;
    double detsize_f = 102.4e-3, detsize_s = 102.4e-3;
    double Xbeam, Ybeam, Fbeam, Sbeam, distance, close_distance, ratio;
    Vec3 twotheta_axis = vec3(0.0, 0.0, -1.0);
    /* the detector is never tilted here, but nanoBragg still applies the zero
       two-theta rotation, which fixes the signs of the zero components */
    const double twotheta = 0.0;

    if (o->detpixels > 0) {
        detsize_f = pixel * o->detpixels;
        detsize_s = pixel * o->detpixels;
    }
    d.fpixels = (int) ceil(detsize_f / pixel - 0.5);
    d.spixels = (int) ceil(detsize_s / pixel - 0.5);
    d.pixel_m = pixel;
    if (o->trace_slow < 0 || o->trace_slow >= d.spixels || o->trace_fast < 0 || o->trace_fast >= d.fpixels)
        usage_error("-trace_pixel %d %d is outside the %dx%d detector", o->trace_slow, o->trace_fast, d.spixels,
                    d.fpixels);

    /* MOSFLM: the first pixel's centre is at (0.5, 0.5) pixels */
    Xbeam = o->have_Xbeam ? o->Xbeam_mm / 1000.0 : (detsize_s + pixel) / 2.0;
    Ybeam = o->have_Ybeam ? o->Ybeam_mm / 1000.0 : (detsize_f + pixel) / 2.0;
    d.beam = unit3(vec3(1.0, 0.0, 0.0), NULL);
    d.odet = unit3(vec3(1.0, 0.0, 0.0), NULL);
    d.fdet = unit3(vec3(0.0, 0.0, 1.0), NULL);
    d.sdet = unit3(vec3(0.0, -1.0, 0.0), NULL);
    d.polar_axis = unit3(vec3(0.0, 0.0, 1.0), NULL);
    d.spindle = unit3(vec3(0.0, 0.0, 1.0), NULL);
    Fbeam = Ybeam + 0.5 * pixel;
    Sbeam = Xbeam + 0.5 * pixel;

    ratio = dot3(d.beam, d.odet);
    if (ratio == 0.0) ratio = 2.2250738585072014e-308;
    close_distance = fabs(ratio * (o->distance_mm / 1000.0));
    distance = close_distance / ratio;

    d.fdet = rotate_about(d.fdet, twotheta_axis, twotheta);
    d.sdet = rotate_about(d.sdet, twotheta_axis, twotheta);
    d.odet = rotate_about(d.odet, twotheta_axis, twotheta);

    printf("TRACE_C:detector_convention=MOSFLM\n");
    printf("TRACE_C:angles_rad=rotx:%.15g roty:%.15g rotz:%.15g twotheta:%.15g\n", 0.0, 0.0, 0.0, twotheta);
    /* nanoBragg divides the (already metre) beam centre by 1000 once more in this line */
    printf("TRACE_C:beam_center_m=X:%.15g Y:%.15g pixel_mm:%.15g\n", Xbeam / 1000.0, Ybeam / 1000.0,
           pixel * 1000.0);
    printf("TRACE_C:initial_fdet=%.15g %.15g %.15g\n", 0.0, 0.0, 1.0);
    printf("TRACE_C:initial_sdet=%.15g %.15g %.15g\n", 0.0, -1.0, 0.0);
    printf("TRACE_C:initial_odet=%.15g %.15g %.15g\n", 1.0, 0.0, 0.0);
    printf("TRACE_C:convention_mapping=Fbeam\xe2\x86\x90Ybeam_mm(+0.5px),Sbeam\xe2\x86\x90Xbeam_mm(+0.5px),beam_vec=[1 0 0]\n");
    printf("TRACE_C:Fbeam_m=%.15g\n", Fbeam);
    printf("TRACE_C:Sbeam_m=%.15g\n", Sbeam);
    printf("TRACE_C:distance_m=%.15g\n", distance);
    printf("TRACE_C:term_fast=%.15g %.15g %.15g\n", -Fbeam * d.fdet.x, -Fbeam * d.fdet.y, -Fbeam * d.fdet.z);
    printf("TRACE_C:term_slow=%.15g %.15g %.15g\n", -Sbeam * d.sdet.x, -Sbeam * d.sdet.y, -Sbeam * d.sdet.z);
    printf("TRACE_C:term_beam=%.15g %.15g %.15g\n", distance * d.beam.x, distance * d.beam.y, distance * d.beam.z);

    d.pix0 = vec3(-Fbeam * d.fdet.x - Sbeam * d.sdet.x + distance * d.beam.x,
                  -Fbeam * d.fdet.y - Sbeam * d.sdet.y + distance * d.beam.y,
                  -Fbeam * d.fdet.z - Sbeam * d.sdet.z + distance * d.beam.z);
    printf("TRACE_C:pix0_vector=%.15g %.15g %.15g\n", d.pix0.x, d.pix0.y, d.pix0.z);

    d.close_distance_m = dot3(d.pix0, d.odet);
    d.distance_m = d.close_distance_m / ratio;
    return d;
}

/* Kahn polarization factor; like nanoBragg it re-normalises both rays in place. */
static double polarization_factor(double kahn, Vec3 *incident, Vec3 *diffracted, Vec3 axis)
{
    double cos2theta, cos2theta_sqr, sin2theta_sqr, psi = 0.0;
    *incident = unit3(*incident, NULL);
    *diffracted = unit3(*diffracted, NULL);
    axis = unit3(axis, NULL);
    cos2theta = dot3(*incident, *diffracted);
    cos2theta_sqr = cos2theta * cos2theta;
    sin2theta_sqr = 1 - cos2theta_sqr;
    if (kahn != 0.0) {
        /* the E-vector is taken to lie closest to the polarization axis */
        Vec3 B_in = unit3(cross3(axis, *incident), NULL);
        Vec3 E_in = unit3(cross3(*incident, B_in), NULL);
        psi = -atan2(dot3(*diffracted, B_in), dot3(*diffracted, E_in));
    }
    return 0.5 * (1.0 + cos2theta_sqr - kahn * cos(2 * psi) * sin2theta_sqr);
}

/* ------------------------------------------------------------------------- */
/* The traced pixel                                                          */

typedef struct {
    Vec3 a, b, c;
} Orientation;

/*
 * One pass over the phi steps' orientations. The working orientation is only
 * replaced when phi != 0, so a step at phi = 0 keeps whatever the previous
 * pass (the previous pixel, sub-pixel or source) left behind.
 */
static void sweep_orientation(Orientation *o, const Crystal *x, Vec3 spindle, double phi0, double phistep,
                              int phisteps)
{
    int tic;
    for (tic = 0; tic < phisteps; ++tic) {
        double phi = phi0 + phistep * tic;
        if (phi != 0.0) {
            o->a = rotate_about(x->a, spindle, phi);
            o->b = rotate_about(x->b, spindle, phi);
            o->c = rotate_about(x->c, spindle, phi);
        }
    }
}

int main(int argc, char **argv)
{
    Options opt = parse_options(argc, argv);
    const double rtd = 180.0 * ONE_OVER_PI;
    Detector det;
    Crystal xtal;
    HklTable table;
    Orientation orient;
    double lambda0 = opt.lambda_A / 1.0e10;
    double phi0 = opt.phi_deg / rtd;
    double osc = opt.osc_deg >= 0.0 ? opt.osc_deg / rtd : -1.0;
    double phistep = -1.0;
    int phisteps = opt.phisteps;
    double Na = opt.Na, Nb = opt.Nb, Nc = opt.Nc;
    int oversample = opt.oversample;
    int steps, subS, subF;
    double subpixel;
    Vec3 source_dir, incident, diffracted, scattering, pixel_pos;
    double I = 0.0, polar = 0.0, omega_pixel = 0.0, capture_fraction = 1.0;
    double airpath, test;
    float floatimage = 0.0f;

    /* phi sampling, as nanoBragg resolves -phi/-osc/-phisteps */
    if (phisteps < 0) {
        if (osc < 0.0) {
            phisteps = 1;
            osc = 0.0;
            phistep = 0.0;
        } else {
            phisteps = 2;
            phistep = osc / 2.0;
        }
    } else {
        if (phisteps == 0) phisteps = 1;
        if (osc < 0.0) osc = 1.0 / rtd;
        phistep = osc / phisteps;
    }

    det = setup_detector(&opt);

    table = load_hkl(opt.hkl_path, opt.default_F);
    if (table.count > 0 && (Na <= 2 || Nb <= 2 || Nc <= 2)) {
        fprintf(stderr, "pixel_trace: with -hkl and a crystal 2 cells or fewer wide, nanoBragg switches on "
                        "tricubic structure-factor interpolation, which this model does not implement; "
                        "use -N 3 or more\n");
        return EXIT_USAGE;
    }

    xtal = build_crystal(opt.cell, rtd);
    if (Na <= 1.0) Na = 1.0;
    if (Nb <= 1.0) Nb = 1.0;
    if (Nc <= 1.0) Nc = 1.0;
    if (oversample <= 0) {
        double size = xtal.a_len_m * Na;
        double reciprocal_pixel = lambda0 * det.distance_m / det.pixel_m;
        if (size < xtal.b_len_m * Nb) size = xtal.b_len_m * Nb;
        if (size < xtal.c_len_m * Nc) size = xtal.c_len_m * Nc;
        oversample = (int) ceil(3.0 * size / reciprocal_pixel);
        if (oversample <= 0) oversample = 1;
    }
    steps = phisteps * oversample * oversample; /* one source and one mosaic domain */
    subpixel = det.pixel_m / oversample;

    /* the single source: a point up-beam, passed through nanoBragg's (zero) divergence rotations */
    {
        Vec3 vertical = unit3(cross3(det.beam, det.polar_axis), NULL);
        Vec3 v = vec3(-SOURCE_DISTANCE * det.beam.x, -SOURCE_DISTANCE * det.beam.y, -SOURCE_DISTANCE * det.beam.z);
        v = rotate_about(v, det.polar_axis, 0.0);
        v = rotate_about(v, vertical, 0.0);
        source_dir = unit3(v, NULL);
    }

    orient.a = xtal.a;
    orient.b = xtal.b;
    orient.c = xtal.c;
    if (!(opt.trace_slow == 0 && opt.trace_fast == 0))
        sweep_orientation(&orient, &xtal, det.spindle, phi0, phistep, phisteps);

    for (subS = 0; subS < oversample; ++subS) {
        for (subF = 0; subF < oversample; ++subF) {
            double Fdet = subpixel * (opt.trace_fast * oversample + subF) + subpixel / 2.0;
            double Sdet = subpixel * (opt.trace_slow * oversample + subS) + subpixel / 2.0;
            const double Odet = 0.0;
            double lambda;
            int phi_tic;

            pixel_pos = vec3(Fdet * det.fdet.x + Sdet * det.sdet.x + Odet * det.odet.x + det.pix0.x,
                             Fdet * det.fdet.y + Sdet * det.sdet.y + Odet * det.odet.y + det.pix0.y,
                             Fdet * det.fdet.z + Sdet * det.sdet.z + Odet * det.odet.z + det.pix0.z);
            diffracted = unit3(pixel_pos, &airpath);
            if (omega_pixel == 0.0)
                omega_pixel = det.pixel_m * det.pixel_m / airpath / airpath * det.close_distance_m / airpath;

            incident = vec3(-source_dir.x, -source_dir.y, -source_dir.z);
            lambda = lambda0; /* no spectral dispersion */
            scattering = vec3((diffracted.x - incident.x) / lambda, (diffracted.y - incident.y) / lambda,
                              (diffracted.z - incident.z) / lambda);

            printf("TRACE_C: pix0_vector_meters %.15g %.15g %.15g\n", det.pix0.x, det.pix0.y, det.pix0.z);
            printf("TRACE_C: fdet_vec %.15g %.15g %.15g\n", det.fdet.x, det.fdet.y, det.fdet.z);
            printf("TRACE_C: sdet_vec %.15g %.15g %.15g\n", det.sdet.x, det.sdet.y, det.sdet.z);
            printf("TRACE_C: pixel_pos_meters %.15g %.15g %.15g\n", pixel_pos.x, pixel_pos.y, pixel_pos.z);
            printf("TRACE_C: R_distance_meters %.15g\n", airpath);
            printf("TRACE_C: omega_pixel_sr %.15g\n", omega_pixel);
            printf("TRACE_C: close_distance_meters %.15g\n", det.close_distance_m);
            printf("TRACE_C: obliquity_factor %.15g\n", det.close_distance_m / airpath);
            printf("TRACE_C: diffracted_vec %.15g %.15g %.15g\n", diffracted.x, diffracted.y, diffracted.z);
            printf("TRACE_C: incident_vec %.15g %.15g %.15g\n", incident.x, incident.y, incident.z);
            printf("TRACE_C: lambda_meters %.15g\n", lambda);
            printf("TRACE_C: lambda_angstroms %.15g\n", lambda * 1e10);
            printf("TRACE_C: scattering_vec_A_inv %.15g %.15g %.15g\n", scattering.x, scattering.y, scattering.z);

            if (polar == 0.0) polar = polarization_factor(opt.kahn, &incident, &diffracted, det.polar_axis);

            for (phi_tic = 0; phi_tic < phisteps; ++phi_tic) {
                double phi = phi0 + phistep * phi_tic;
                double h, k, l, F_latt, F_latt_a = 1.0, F_latt_b = 1.0, F_latt_c = 1.0, F_cell;
                int h0, k0, l0;

                if (phi != 0.0) {
                    orient.a = rotate_about(xtal.a, det.spindle, phi);
                    orient.b = rotate_about(xtal.b, det.spindle, phi);
                    orient.c = rotate_about(xtal.c, det.spindle, phi);
                }
                /* fractional Miller indices: real-space cell vectors (m) dotted with S (1/m) */
                h = dot3(orient.a, scattering);
                k = dot3(orient.b, scattering);
                l = dot3(orient.c, scattering);
                h0 = (int) ceil(h - 0.5);
                k0 = (int) ceil(k - 0.5);
                l0 = (int) ceil(l - 0.5);

                if (phi_tic == 0) {
                    printf("TRACE_C: rot_a_angstroms %.15g %.15g %.15g\n", orient.a.x * 1e10, orient.a.y * 1e10,
                           orient.a.z * 1e10);
                    printf("TRACE_C: rot_b_angstroms %.15g %.15g %.15g\n", orient.b.x * 1e10, orient.b.y * 1e10,
                           orient.b.z * 1e10);
                    printf("TRACE_C: rot_c_angstroms %.15g %.15g %.15g\n", orient.c.x * 1e10, orient.c.y * 1e10,
                           orient.c.z * 1e10);
                    /* nanoBragg prints the unrotated reciprocal vectors here */
                    printf("TRACE_C: rot_a_star_A_inv %.15g %.15g %.15g\n", xtal.a_star.x, xtal.a_star.y,
                           xtal.a_star.z);
                    printf("TRACE_C: rot_b_star_A_inv %.15g %.15g %.15g\n", xtal.b_star.x, xtal.b_star.y,
                           xtal.b_star.z);
                    printf("TRACE_C: rot_c_star_A_inv %.15g %.15g %.15g\n", xtal.c_star.x, xtal.c_star.y,
                           xtal.c_star.z);
                    printf("TRACE_C: hkl_frac %.15g %.15g %.15g\n", h, k, l);
                    printf("TRACE_C: hkl_rounded %d %d %d\n", h0, k0, l0);
                }

                F_latt = 1.0;
                if (Na > 1) {
                    F_latt_a = sincg(M_PI * h, Na);
                    F_latt *= F_latt_a;
                }
                if (Nb > 1) {
                    F_latt_b = sincg(M_PI * k, Nb);
                    F_latt *= F_latt_b;
                }
                if (Nc > 1) {
                    F_latt_c = sincg(M_PI * l, Nc);
                    F_latt *= F_latt_c;
                }
                if (phi_tic == 0) {
                    printf("TRACE_C: F_latt_a %.15g\n", F_latt_a);
                    printf("TRACE_C: F_latt_b %.15g\n", F_latt_b);
                    printf("TRACE_C: F_latt_c %.15g\n", F_latt_c);
                    printf("TRACE_C: F_latt %.15g\n", F_latt);
                }
                printf("TRACE_C_PHI phi_tic=%d phi_deg=%.15g k_frac=%.15g F_latt_b=%.15g F_latt=%.15g\n", phi_tic,
                       phi * rtd, k, F_latt_b, F_latt);
                if (F_latt == 0.0) continue;

                F_cell = lookup_F(&table, h0, k0, l0);
                if (phi_tic == 0) printf("TRACE_C: F_cell %.15g\n", F_cell);
                I += F_cell * F_cell * F_latt * F_latt;
            }
        }
    }

    test = ELECTRON_RADIUS_SQR * opt.fluence * I / steps;
    test *= capture_fraction;
    test *= polar;
    test *= omega_pixel;
    /* the image is single precision: this is what nanoBragg writes for the pixel */
    floatimage += test;

    printf("TRACE_C: I_before_scaling %.15g\n", I);
    printf("TRACE_C: r_e_meters %.15g\n", sqrt(ELECTRON_RADIUS_SQR));
    printf("TRACE_C: r_e_sqr %.15g\n", ELECTRON_RADIUS_SQR);
    printf("TRACE_C: fluence_photons_per_m2 %.15g\n", opt.fluence);
    printf("TRACE_C: steps %d\n", steps);
    printf("TRACE_C: oversample_thick %d\n", 0);
    printf("TRACE_C: oversample_polar %d\n", 0);
    printf("TRACE_C: oversample_omega %d\n", 0);
    printf("TRACE_C: capture_fraction %.15g\n", capture_fraction);
    printf("TRACE_C: polar %.15g\n", polar);
    printf("TRACE_C: omega_pixel %.15g\n", omega_pixel);
    printf("TRACE_C: cos_2theta %.15g\n", dot3(incident, diffracted));
    printf("TRACE_C: I_pixel_final %.15g\n", test);
    printf("TRACE_C: floatimage_accumulated %.15g\n", (double) floatimage);
    free(table.F);
    return 0;
}
