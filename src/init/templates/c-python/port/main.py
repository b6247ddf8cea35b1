"""The port of reference/main.c, written by `evidence init`: the same damped spring, the same
trace keys. Replace it with your port (NumPy or PyTorch: trace() takes arrays and tensors as
they are) and call trace() where the reference calls TRACE, with the same keys."""
import math

from evidence_trace import trace

k, c, dt = 4.0, 0.3, 0.01  # stiffness, damping, time step
steps = 200
x, v = 1.0, 0.0  # position, velocity
trace("params", k, c, dt)
for i in range(steps):
    a = -k * x - c * v
    v += a * dt
    x += v * dt
    if i % 50 == 0:
        trace("state", x, v, a)  # a repeated key: compared occurrence by occurrence
trace("steps", steps)
trace("energy", 0.5 * v * v + 0.5 * k * x * x)
trace("amplitude", math.sqrt(x * x + v * v / k))
