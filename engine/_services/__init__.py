"""The services the Engine wires, one per lifecycle: repository, cases, tasks, runtime, users, timers."""
