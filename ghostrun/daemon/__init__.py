"""The daemon (DESIGN §5): `service` wires the watcher, the run supervisor (`runs`), the
event sink (`events`: IPC, log, notifications) and the idle scheduler together; `launch`
starts and stops it for the command line; `lock` keeps it to one per project."""
