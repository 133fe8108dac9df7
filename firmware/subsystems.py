"""The subsystems beyond the core the application starts: each module's setup(app) wires itself and returns its tasks."""
# One entry per subsystem, in start order. setup(app) attaches what the
# object model and the other subsystems use (app.relays, app.disconnect,
# app.leds, ...) and returns an iterable of (task name, coroutine function)
# for the supervisor.
SUBSYSTEMS = (
    # outputs (issue 6): "firmware.outputs",
    # protection (issue 6): "firmware.protection",
    # front panel (issue 6): "firmware.panel",
)
