/* A tiny reference program, written by `evidence init`: a damped spring stepped with semi-implicit
 * Euler. Replace it with your own program and keep trace.h: call TRACE wherever your port calls
 * trace(), with the same key and the same values, and `evidence run` compares them key by key. */
#include <math.h>
#include "trace.h"

int main(void) {
  const double k = 4.0, c = 0.3, dt = 0.01; /* stiffness, damping, time step */
  const int steps = 200;
  double x = 1.0, v = 0.0; /* position, velocity */
  TRACE("params", k, c, dt);
  for (int i = 0; i < steps; i++) {
    double a = -k * x - c * v;
    v += a * dt;
    x += v * dt;
    if (i % 50 == 0) TRACE("state", x, v, a); /* a repeated key: compared occurrence by occurrence */
  }
  TRACE_INT("steps", steps);
  TRACE("energy", 0.5 * v * v + 0.5 * k * x * x);
  TRACE("amplitude", sqrt(x * x + v * v / k));
  return 0;
}
