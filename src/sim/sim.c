/* SPDX-License-Identifier: MIT */
/* sim: a synthetic driver lapping a closed circuit of straights and arcs, and the OutGauge and
 * MotionSim datagrams that describe it; pure arithmetic, no sockets, clocks or global state. */
#include "sim.h"

#include "common/common.h"
#include "ingest/ingest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Conventions (what `serve` and the tests can rely on):
 * - The circuit lies in the world x-y plane (z = 0, up = +z) and is driven counter-clockwise;
 *   the start/finish line is at the origin, heading +x, at the start of the main straight.
 * - Heading (MotionSim yaw) is measured from +x towards +y, wrapped to (-pi, pi].
 * - Vehicle frame: x = right, y = forward, z = up.  A left turn therefore has a negative lateral
 *   acceleration (the centripetal acceleration points left): acc x = -curvature * v².
 * - The longitudinal acceleration is the mean over the last sim_car_step(): exactly
 *   (v(t) - v(t - dt)) / dt.  Gravity is not included (the track is flat).
 */

#define SUBSTEP_MAX_S (1.0 / 500.0) /* physics step; dt is cut into pieces no longer than this */
#define STEP_MAX_S 3600.0           /* a longer dt is clamped: a stall must not spin forever */

#define GEARS 6
#define FINAL_DRIVE 3.42
#define WHEEL_RADIUS_M 0.33
#define IDLE_RPM 800.0
#define REDLINE_RPM 7500.0
#define DOWNSHIFT_RPM 3000.0       /* cruising: change down below this */
#define DOWNSHIFT_BRAKING_RPM 4500 /* braking: change down earlier, as drivers do */
#define UPSHIFT_TIME_S 0.12
#define DOWNSHIFT_TIME_S 0.15
#define AIR_DENSITY 1.2                 /* kg/m³ */
#define ROLLING_ACC_MPS2 0.12           /* rolling resistance as a deceleration */
#define FUEL_FULL_THROTTLE_PER_S 3.5e-4 /* tank fraction per second at full throttle */
#define FUEL_IDLE_PER_S 1.0e-5
#define LOAD_TAU_S 30.0 /* how slowly temperatures follow the engine load */
#define MAX_SEGMENTS 24

static const double gear_ratio[GEARS] = {3.30, 2.20, 1.65, 1.30, 1.05, 0.86};

/* The circuit as driven: a straight has radius 0; an arc turns angle_deg (+ left, - right).
 * Arcs add up to +360° so the heading is continuous around the loop.  The lengths of the two
 * marked straights (one along x, one along y) are solved at build time so that the loop closes
 * exactly; the values here are their nominal lengths.  About 2.48 km. */
struct seg_def {
    double len_m;    /* straights */
    double radius_m; /* arcs */
    double angle_deg;
};
/* clang-format off */
static const struct seg_def circuit[] = {
    {800, 0, 0},   /* 0: main straight, heading +x (closes the loop in x) */
    {0, 60, 90},   /* turn 1 */
    {60, 0, 0},
    {0, 110, 45},  /* turn 2, fast */
    {80, 0, 0},
    {0, 80, 45},   /* turn 3 */
    {150, 0, 0},
    {0, 120, -45}, /* turns 4-5: esses */
    {60, 0, 0},
    {0, 70, 45},
    {250, 0, 0},   /* back straight, heading -x */
    {0, 100, 90},  /* turn 6 */
    {300, 0, 0},   /* 12: descent to the hairpin, heading -y (closes the loop in y) */
    {0, 25, 180},  /* turn 7: hairpin */
    {100, 0, 0},
    {0, 40, -90},  /* turn 8 onto the main straight */
};
/* clang-format on */
#define CLOSE_X_SEG 0
#define CLOSE_Y_SEG 12

struct seg {
    double s0_m; /* distance of its start from the start line */
    double len_m;
    double curv;       /* 1/m, + left, 0 straight */
    double x0_m, y0_m; /* start pose */
    double h0_rad;
};

struct track {
    struct seg seg[MAX_SEGMENTS];
    int n;
    double len_m;
};

struct sim_car {
    struct track track;
    /* The driver and the car, fixed at creation from (index, seed). */
    double a_lat_max_mps2;    /* cornering limit: corner speed = sqrt(a_lat_max * R) */
    double a_plan_brake_mps2; /* the deceleration the driver plans braking points with */
    double a_brake_full_mps2; /* deceleration at brake = 1 */
    double a_grip_mps2;       /* traction limit when accelerating */
    double power_w, mass_kg, cda_m2;
    double shift_up_rpm;
    double v_cap_mps;                     /* redline in top gear */
    double corner_vmax_mps[MAX_SEGMENTS]; /* per segment, this lap; 0 on straights */
    uint64_t rng;                         /* per-lap form, continues the (index, seed) sequence */
    /* State. */
    double t_s;
    double dist_m; /* driven since creation */
    double s_m;    /* position along the lap, [0, track length) */
    int seg;       /* segment holding s_m */
    double v_mps;
    double a_long_mps2; /* mean over the last step */
    int gear;           /* 1..GEARS */
    double shift_left_s, shift_total_s, shift_from_rpm;
    double rpm;
    double throttle, brake, clutch;
    double fuel, load; /* load: slow average of the throttle, drives the temperatures */
    int laps;
    double lap_start_s; /* time of the last start/finish crossing; < 0 before the first */
    double last_lap_s;
    double x_m, y_m, heading_rad;
};

/* ---- the circuit ---- */

/* Walks the definitions with the given straight lengths; *end_x, *end_y get the end point. */
static void track_layout(struct track *t, const double *straight_len_m, double *end_x,
                         double *end_y)
{
    double x = 0, y = 0, h = 0, s = 0;

    t->n = (int)BT_ARRAY_LEN(circuit);
    for (int i = 0; i < t->n; i++) {
        struct seg *g = &t->seg[i];
        g->s0_m = s;
        g->x0_m = x;
        g->y0_m = y;
        g->h0_rad = h;
        if (circuit[i].radius_m == 0) {
            g->curv = 0;
            g->len_m = straight_len_m[i];
            x += g->len_m * cos(h);
            y += g->len_m * sin(h);
        } else {
            double turn = circuit[i].angle_deg * M_PI / 180.0;
            g->curv = (turn > 0 ? 1.0 : -1.0) / circuit[i].radius_m;
            g->len_m = fabs(turn) * circuit[i].radius_m;
            x += (sin(h + turn) - sin(h)) / g->curv;
            y -= (cos(h + turn) - cos(h)) / g->curv;
            h += turn;
        }
        s += g->len_m;
    }
    t->len_m = s;
    *end_x = x;
    *end_y = y;
}

/* Lays out the circuit and closes it: with nominal lengths the end misses the start by a gap
 * g; lengthening the two closing straights (directions d1, d2) by l1, l2 with
 * l1·d1 + l2·d2 = -g removes it (Cramer's rule on the 2×2 system). */
static void track_build(struct track *t)
{
    double len[MAX_SEGMENTS];
    double gx, gy, d1x, d1y, d2x, d2y, det, l1, l2;

    for (size_t i = 0; i < BT_ARRAY_LEN(circuit); i++)
        len[i] = circuit[i].len_m;
    track_layout(t, len, &gx, &gy);
    d1x = cos(t->seg[CLOSE_X_SEG].h0_rad);
    d1y = sin(t->seg[CLOSE_X_SEG].h0_rad);
    d2x = cos(t->seg[CLOSE_Y_SEG].h0_rad);
    d2y = sin(t->seg[CLOSE_Y_SEG].h0_rad);
    det = d1x * d2y - d2x * d1y;
    l1 = (-gx * d2y + gy * d2x) / det;
    l2 = (-gy * d1x + gx * d1y) / det;
    len[CLOSE_X_SEG] += l1;
    len[CLOSE_Y_SEG] += l2;
    track_layout(t, len, &gx, &gy);
}

/* Pose at distance d into segment g. */
static void seg_pose(const struct seg *g, double d, double *x, double *y, double *h)
{
    if (g->curv == 0) {
        *x = g->x0_m + d * cos(g->h0_rad);
        *y = g->y0_m + d * sin(g->h0_rad);
        *h = g->h0_rad;
    } else {
        *h = g->h0_rad + g->curv * d;
        *x = g->x0_m + (sin(*h) - sin(g->h0_rad)) / g->curv;
        *y = g->y0_m - (cos(*h) - cos(g->h0_rad)) / g->curv;
    }
}

static int seg_find(const struct track *t, double s)
{
    int i = 0;
    while (i + 1 < t->n && s >= t->seg[i + 1].s0_m)
        i++;
    return i;
}

/* Length of the closed circuit (the same for every car). */
double sim_track_length_m(void)
{
    struct track t;
    track_build(&t);
    return t.len_m;
}

/* ---- the driver's variation: a deterministic hash of (index, seed) ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double uniform(uint64_t *state)
{
    return (double)(splitmix64(state) >> 11) * 0x1.0p-53;
}

/* ---- the car ---- */

static double wheel_rpm(double v_mps, int gear)
{
    return v_mps / (2.0 * M_PI * WHEEL_RADIUS_M) * gear_ratio[gear - 1] * FINAL_DRIVE * 60.0;
}

/* Air drag and rolling resistance as a deceleration (m/s², ≥ 0). */
static double resist_acc(const struct sim_car *c, double v_mps)
{
    return 0.5 * AIR_DENSITY * c->cda_m2 * v_mps * v_mps / c->mass_kg +
           (v_mps > 0 ? ROLLING_ACC_MPS2 : 0);
}

/* The fastest the driver may go at s: the corner's own limit inside a corner, and for every
 * corner ahead the speed from which planned braking reaches that corner's limit. */
static double speed_envelope(const struct sim_car *c, double s)
{
    const struct track *t = &c->track;
    double v = c->v_cap_mps;

    s = fmod(s, t->len_m);
    for (int i = 0; i < t->n; i++) {
        const struct seg *g = &t->seg[i];
        double vc = c->corner_vmax_mps[i], d, lim;
        if (g->curv == 0)
            continue;
        if (s >= g->s0_m && s < g->s0_m + g->len_m) {
            lim = vc;
        } else {
            d = g->s0_m - s;
            if (d < 0)
                d += t->len_m;
            lim = sqrt(vc * vc + 2.0 * c->a_plan_brake_mps2 * d);
        }
        if (lim < v)
            v = lim;
    }
    return v;
}

static void start_shift(struct sim_car *c, int gear, double time_s)
{
    c->shift_from_rpm = c->rpm;
    c->gear = gear;
    c->shift_left_s = c->shift_total_s = time_s;
}

/* Gear changes at the thresholds; during a change the clutch is out and the rpm moves from the
 * old gear's value to the new one. */
static void update_drivetrain(struct sim_car *c, double h)
{
    double target;

    if (c->shift_left_s > 0) {
        c->shift_left_s -= h;
        if (c->shift_left_s < 0)
            c->shift_left_s = 0;
    } else {
        double rpm = wheel_rpm(c->v_mps, c->gear);
        if (c->gear < GEARS && rpm >= c->shift_up_rpm) {
            start_shift(c, c->gear + 1, UPSHIFT_TIME_S);
        } else if (c->gear > 1) {
            double lower = wheel_rpm(c->v_mps, c->gear - 1);
            int want = rpm < DOWNSHIFT_RPM || (c->brake > 0.2 && rpm < DOWNSHIFT_BRAKING_RPM);
            if (want && lower < c->shift_up_rpm - 600)
                start_shift(c, c->gear - 1, DOWNSHIFT_TIME_S);
        }
    }
    target = fmax(IDLE_RPM, wheel_rpm(c->v_mps, c->gear));
    if (c->shift_left_s > 0) {
        double done = 1.0 - c->shift_left_s / c->shift_total_s;
        c->rpm = c->shift_from_rpm + (target - c->shift_from_rpm) * done;
        c->clutch = fmin(1.0, 2.0 * c->shift_left_s / c->shift_total_s);
    } else {
        c->rpm = target;
        c->clutch = 0;
    }
    if (c->rpm > REDLINE_RPM)
        c->rpm = REDLINE_RPM;
}

/* The driver's form varies a little from lap to lap (±2% of the cornering limit), so that lap
 * times and the consistency score are not perfectly flat.  Called on the start line, where the
 * car is accelerating on the main straight, so no corner limit changes under it. */
static void plan_lap(struct sim_car *c)
{
    double form = 1.0 + 0.04 * (uniform(&c->rng) - 0.5);
    for (int i = 0; i < c->track.n; i++) {
        double curv = c->track.seg[i].curv;
        c->corner_vmax_mps[i] = curv == 0 ? 0 : sqrt(form * c->a_lat_max_mps2 / fabs(curv));
    }
}

/* One physics step of h seconds (h ≤ SUBSTEP_MAX_S): the driver asks for the acceleration
 * that keeps the car on the speed envelope, limited by the engine, grip and brakes. */
static void substep(struct sim_car *c, double h)
{
    const struct track *t = &c->track;
    double v = c->v_mps, v_new, res, drive, want, a;

    res = resist_acc(c, v);
    drive = 0;
    if (c->shift_left_s <= 0) {
        drive = fmin(c->a_grip_mps2, c->power_w / (c->mass_kg * fmax(v, 1.0)));
        if (c->gear == GEARS && v >= c->v_cap_mps) /* rev limiter */
            drive = fmin(drive, res);
    }
    want = (speed_envelope(c, c->s_m + v * h) - v) / h;
    a = fmax(-c->a_brake_full_mps2 - res, fmin(want, drive - res));
    if (a >= -res) {
        c->throttle = drive > 0 ? fmin(1.0, (a + res) / drive) : 0;
        c->brake = 0;
    } else {
        c->throttle = 0;
        c->brake = fmin(1.0, (-a - res) / c->a_brake_full_mps2);
    }
    v_new = fmax(0.0, v + a * h);
    c->s_m += 0.5 * (v + v_new) * h;
    c->dist_m += 0.5 * (v + v_new) * h;
    c->v_mps = v_new;
    c->t_s += h;
    if (c->s_m >= t->len_m) {
        c->s_m -= t->len_m;
        if (c->lap_start_s >= 0)
            c->last_lap_s = c->t_s - c->lap_start_s;
        c->lap_start_s = c->t_s;
        c->laps++;
        c->seg = 0;
        plan_lap(c);
    }
    while (c->seg + 1 < t->n && c->s_m >= t->seg[c->seg + 1].s0_m)
        c->seg++;
    update_drivetrain(c, h);

    /* A dry tank is refilled, as a pit stop would, so that long demos stay plausible. */
    c->fuel -= h * (FUEL_IDLE_PER_S + FUEL_FULL_THROTTLE_PER_S * c->throttle);
    if (c->fuel < 0.02)
        c->fuel = 1.0;
    c->load += (c->throttle - c->load) * h / LOAD_TAU_S;
}

static void update_pose(struct sim_car *c)
{
    const struct seg *g = &c->track.seg[c->seg];
    seg_pose(g, c->s_m - g->s0_m, &c->x_m, &c->y_m, &c->heading_rad);
}

/* Creates a car with its driver drawn from (index, seed), rolling at its start position. */
struct sim_car *sim_car_new(int index, uint32_t seed)
{
    struct sim_car *c = xcalloc(1, sizeof *c);
    uint64_t rng = (uint64_t)seed << 32 ^ (uint32_t)index;
    double start;

    track_build(&c->track);
    /* Mix twice so that neighbouring (index, seed) pairs do not give neighbouring cars. */
    splitmix64(&rng);
    c->a_lat_max_mps2 = 9.0 + 2.0 * uniform(&rng);
    c->a_plan_brake_mps2 = 8.6 + 0.8 * uniform(&rng);
    c->a_brake_full_mps2 = 10.5 + 0.5 * uniform(&rng);
    c->a_grip_mps2 = 7.0 + 1.5 * uniform(&rng);
    c->power_w = 200e3 + 40e3 * uniform(&rng);
    c->mass_kg = 1300 + 150 * uniform(&rng);
    c->cda_m2 = 0.62 + 0.12 * uniform(&rng);
    c->shift_up_rpm = 6800 + 300 * uniform(&rng);
    c->fuel = 0.55 + 0.4 * uniform(&rng);
    /* Golden-ratio spacing spreads any number of cars around the lap. */
    start = fmod(index * 0.6180339887498949 + 0.05 * uniform(&rng), 1.0);
    c->v_cap_mps =
        REDLINE_RPM / 60.0 * 2.0 * M_PI * WHEEL_RADIUS_M / (gear_ratio[GEARS - 1] * FINAL_DRIVE);
    c->rng = rng;
    plan_lap(c);

    c->s_m = start * c->track.len_m;
    c->seg = seg_find(&c->track, c->s_m);
    /* A rolling start at a speed the driver would accept here. */
    c->v_mps = fmin(20.0, speed_envelope(c, c->s_m));
    c->gear = 1;
    while (c->gear < GEARS && wheel_rpm(c->v_mps, c->gear) > 5000)
        c->gear++;
    c->lap_start_s = -1;
    c->load = 0.5;
    update_drivetrain(c, 0);
    update_pose(c);
    return c;
}

/* Frees a car; NULL is accepted. */
void sim_car_free(struct sim_car *car)
{
    free(car);
}

/* Advances the car by dt seconds in sub-steps of at most SUBSTEP_MAX_S; dt ≤ 0 does nothing. */
void sim_car_step(struct sim_car *car, double dt)
{
    double v0 = car->v_mps;
    int n;

    if (!(dt > 0))
        return;
    if (dt > STEP_MAX_S)
        dt = STEP_MAX_S;
    n = (int)ceil(dt / SUBSTEP_MAX_S);
    for (int i = 0; i < n; i++)
        substep(car, dt / n);
    car->a_long_mps2 = (car->v_mps - v0) / dt;
    update_pose(car);
}

/* Accessors: the state after the last step, in the units sim.h names. */
double sim_car_speed(const struct sim_car *car)
{
    return car->v_mps;
}

double sim_car_lat_acc(const struct sim_car *car)
{
    return -car->track.seg[car->seg].curv * car->v_mps * car->v_mps;
}

double sim_car_long_acc(const struct sim_car *car)
{
    return car->a_long_mps2;
}
int sim_car_gear(const struct sim_car *car)
{
    return car->gear;
}
double sim_car_rpm(const struct sim_car *car)
{
    return car->rpm;
}

double sim_car_turn_radius_m(const struct sim_car *car)
{
    double curv = car->track.seg[car->seg].curv;
    return curv == 0 ? 0 : 1.0 / curv;
}

double sim_car_throttle(const struct sim_car *car)
{
    return car->throttle;
}
double sim_car_brake(const struct sim_car *car)
{
    return car->brake;
}
double sim_car_clutch(const struct sim_car *car)
{
    return car->clutch;
}
double sim_car_distance_m(const struct sim_car *car)
{
    return car->dist_m;
}
double sim_car_lap_pos_m(const struct sim_car *car)
{
    return car->s_m;
}
int sim_car_laps(const struct sim_car *car)
{
    return car->laps;
}
double sim_car_last_lap_s(const struct sim_car *car)
{
    return car->last_lap_s;
}
double sim_car_time_s(const struct sim_car *car)
{
    return car->t_s;
}

/* ---- datagrams ---- */

/* Encodes the car as BeamNG would send it over OutGauge (96 bytes, id 0). */
size_t sim_car_outgauge(const struct sim_car *car, uint32_t time_ms, uint8_t out[96])
{
    struct frame f;
    uint32_t show = 0;

    frame_init(&f);
    f.og_time_ms = time_ms;
    memcpy(f.car, "beam", 5);
    f.flags = OG_KM | OG_BAR; /* what BeamNG sends */
    f.gear = (int8_t)car->gear;
    f.speed_mps = (float)car->v_mps;
    f.rpm = (float)car->rpm;
    f.turbo_bar = 0;
    f.engine_temp_c = (float)(88.0 + 6.0 * car->load);
    f.fuel = (float)car->fuel;
    f.oil_pressure_bar = (float)(1.0 + 3.5 * car->rpm / REDLINE_RPM);
    f.oil_temp_c = (float)(92.0 + 14.0 * car->load);
    f.dash_lights = DL_SHIFT | DL_FULLBEAM | DL_HANDBRAKE | DL_TC | DL_SIGNAL_L | DL_SIGNAL_R |
                    DL_SIGNAL_ANY | DL_OILWARN | DL_BATTERY | DL_ABS | DL_LOWBEAM | DL_ESC |
                    DL_CHECKENGINE;
    if (car->rpm >= car->shift_up_rpm - 250)
        show |= DL_SHIFT;
    if (car->brake > 0.75 && car->v_mps > 3.0)
        show |= DL_ABS;
    f.show_lights = show;
    f.throttle = (float)car->throttle;
    f.brake = (float)car->brake;
    f.clutch = (float)car->clutch;
    f.og_id = 0;
    return ingest_encode_outgauge(&f, out, OUTGAUGE_LEN);
}

/* Encodes the car as a BeamNG MotionSim datagram (flat track: up = +z, roll = pitch = 0). */
size_t sim_car_motionsim(const struct sim_car *car, uint8_t out[88])
{
    const struct seg *g = &car->track.seg[car->seg];
    struct motionsim m;
    double yaw = remainder(car->heading_rad, 2.0 * M_PI);

    memset(&m, 0, sizeof m);
    m.pos_m[0] = (float)car->x_m;
    m.pos_m[1] = (float)car->y_m;
    m.vel_mps[0] = (float)(car->v_mps * cos(car->heading_rad));
    m.vel_mps[1] = (float)(car->v_mps * sin(car->heading_rad));
    m.acc_mps2[0] = (float)sim_car_lat_acc(car);
    m.acc_mps2[1] = (float)car->a_long_mps2;
    m.up[2] = 1.0f;
    m.rpy_rad[2] = (float)(yaw <= -M_PI ? yaw + 2.0 * M_PI : yaw);
    m.rpy_rate[2] = (float)(g->curv * car->v_mps);
    m.rpy_acc[2] = (float)(g->curv * car->a_long_mps2); /* smooth part; arcs are entered at once */
    return ingest_encode_motionsim(&m, out);
}
