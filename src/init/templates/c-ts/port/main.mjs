// The port of reference/main.c, written by `evidence init`: the same damped spring, the same
// trace keys. Replace it with your port (or make port_trace in pipeline.yaml run yours) and call
// trace() where the reference calls TRACE, with the same keys.
import { trace } from './trace.mjs';

const k = 4.0, c = 0.3, dt = 0.01; // stiffness, damping, time step
const steps = 200;
let x = 1.0, v = 0.0; // position, velocity
trace('params', k, c, dt);
for (let i = 0; i < steps; i++) {
  const a = -k * x - c * v;
  v += a * dt;
  x += v * dt;
  if (i % 50 === 0) trace('state', x, v, a); // a repeated key: compared occurrence by occurrence
}
trace('steps', steps);
trace('energy', 0.5 * v * v + 0.5 * k * x * x);
trace('amplitude', Math.sqrt(x * x + v * v / k));
