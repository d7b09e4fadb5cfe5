/* SPDX-License-Identifier: MIT */
/* sim: a synthetic driver lapping a closed circuit, producing consistent OutGauge and MotionSim
 * datagrams (braking into corners, gear/rpm from ratios, lateral acc = v²/R, longitudinal acc
 * = dv/dt).  Pure: no sockets, no clocks; `simulate` and the benchmarks drive it. */
#ifndef BEAMTEL_SIM_H
#define BEAMTEL_SIM_H

#include <stddef.h>
#include <stdint.h>

struct sim_car;
/* A car; index and seed vary its line, pace and start position deterministically. */
struct sim_car *sim_car_new(int index, uint32_t seed);
void sim_car_free(struct sim_car *car);
/* Advances the car by dt seconds. */
void sim_car_step(struct sim_car *car, double dt);
/* Current state in SI units (for tests). */
double sim_car_speed(const struct sim_car *car);    /* m/s */
double sim_car_lat_acc(const struct sim_car *car);  /* m/s², v²/R with sign */
double sim_car_long_acc(const struct sim_car *car); /* m/s², dv/dt */
int sim_car_gear(const struct sim_car *car);        /* 1.. */
double sim_car_rpm(const struct sim_car *car);
/* Extra state for tests and benchmarks (sim.c documents the conventions). */
double sim_car_turn_radius_m(const struct sim_car *car); /* +R left, -R right, 0 on a straight */
double sim_car_throttle(const struct sim_car *car);      /* 0..1 */
double sim_car_brake(const struct sim_car *car);         /* 0..1 */
double sim_car_clutch(const struct sim_car *car);        /* 0..1, 1 = disengaged */
double sim_car_distance_m(const struct sim_car *car);    /* driven since sim_car_new */
double sim_car_lap_pos_m(const struct sim_car *car);     /* 0..track length, 0 = start line */
int sim_car_laps(const struct sim_car *car);             /* start/finish crossings */
double sim_car_last_lap_s(const struct sim_car *car);    /* last complete lap; 0 = none yet */
double sim_car_time_s(const struct sim_car *car);        /* simulated time since sim_car_new */
/* Length of the circuit's centre line. */
double sim_track_length_m(void);
/* Writes a 96-byte OutGauge datagram (time_ms is the game clock); returns 96. */
size_t sim_car_outgauge(const struct sim_car *car, uint32_t time_ms, uint8_t out[96]);
/* Writes an 88-byte MotionSim datagram; returns 88. */
size_t sim_car_motionsim(const struct sim_car *car, uint8_t out[88]);

#endif
