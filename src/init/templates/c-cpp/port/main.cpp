// The port of reference/main.c, written by `evidence init`: the same damped spring, the same
// trace keys, its lines labelled TRACE_CPP. Replace it with your port and call TRACE where the
// reference does, with the same keys.
#define TRACE_PREFIX "TRACE_CPP"
#include "trace.h"

#include <cmath>

int main() {
  const double k = 4.0, c = 0.3, dt = 0.01;  // stiffness, damping, time step
  const int steps = 200;
  double x = 1.0, v = 0.0;  // position, velocity
  TRACE("params", k, c, dt);
  for (int i = 0; i < steps; i++) {
    const double a = -k * x - c * v;
    v += a * dt;
    x += v * dt;
    if (i % 50 == 0) TRACE("state", x, v, a);  // a repeated key: compared occurrence by occurrence
  }
  TRACE_INT("steps", steps);
  TRACE("energy", 0.5 * v * v + 0.5 * k * x * x);
  TRACE("amplitude", std::sqrt(x * x + v * v / k));
  return 0;
}
