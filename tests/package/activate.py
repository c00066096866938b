#!/usr/bin/env python3
"""Starts an installed unit's program the way systemd's socket activation would, without
systemd (PID 1 is not systemd on the test machines): reads UNIT.socket and UNIT.service,
binds the socket as the .socket says (ListenStream=, SocketUser=, SocketGroup=, SocketMode=,
DirectoryMode=), passes it as standard input (StandardInput=socket, Accept=no), becomes
User=/Group=/SupplementaryGroups= and execs ExecStart=. The process keeps this PID.

usage: activate.py UNIT_DIR UNIT LOG_FILE

Refuses (status 1, one line) if something already listens on the socket's path, and any
unit setting it does not reproduce. The sandboxing settings (ProtectSystem= ...) are not
reproduced; they only take rights away.
"""
import grp
import os
import pwd
import shlex
import socket
import sys


def fail(message):
    print(f"activate.py: {message}", file=sys.stderr)
    sys.exit(1)


def read_unit(path):
    """The unit's settings as {key: [values]}; comments and section names dropped."""
    settings = {}
    try:
        with open(path, encoding="utf-8") as unit:
            for line in unit:
                line = line.strip()
                if not line or line[0] in "#;[":
                    continue
                key, sep, value = line.partition("=")
                if not sep:
                    fail(f"{path}: cannot read the line {line!r}")
                settings.setdefault(key.strip(), []).append(value.strip())
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    return settings


def one(settings, key, path, default=None):
    values = settings.get(key, [])
    if not values:
        if default is None:
            fail(f"{path} has no {key}=")
        return default
    if len(values) > 1:
        fail(f"{path} has {key}= more than once")
    return values[0]


def listening(path):
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2)
    try:
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def main():
    if len(sys.argv) != 4:
        fail("usage: activate.py UNIT_DIR UNIT LOG_FILE")
    unit_dir, unit, log_file = sys.argv[1:]
    socket_path = os.path.join(unit_dir, unit + ".socket")
    service_path = os.path.join(unit_dir, unit + ".service")
    sock_unit = read_unit(socket_path)
    service = read_unit(service_path)

    if one(sock_unit, "Accept", socket_path, "no") != "no":
        fail(f"{socket_path}: only Accept=no is reproduced")
    if one(service, "StandardInput", service_path) != "socket":
        fail(f"{service_path}: expected StandardInput=socket")
    listen = one(sock_unit, "ListenStream", socket_path)
    if not listen.startswith("/"):
        fail(f"{socket_path}: ListenStream={listen} is not a unix socket path")
    exec_start = one(service, "ExecStart", service_path)
    if exec_start[:1] in "-@:+!" or "%" in exec_start or "$" in exec_start:
        fail(f"{service_path}: ExecStart={exec_start} uses prefixes, specifiers or "
             "variables that are not reproduced")
    argv = shlex.split(exec_start)

    try:
        owner = pwd.getpwnam(one(sock_unit, "SocketUser", socket_path, "root")).pw_uid
        group = grp.getgrnam(one(sock_unit, "SocketGroup", socket_path, "root")).gr_gid
        user = pwd.getpwnam(one(service, "User", service_path))
        run_gid = grp.getgrnam(one(service, "Group", service_path, user.pw_name)).gr_gid
        extra_gids = [grp.getgrnam(name).gr_gid
                      for value in service.get("SupplementaryGroups", [])
                      for name in value.split()]
    except KeyError as error:
        fail(f"no such user or group: {error.args[0]}")
    mode = int(one(sock_unit, "SocketMode", socket_path, "0666"), 8)
    directory_mode = int(one(sock_unit, "DirectoryMode", socket_path, "0755"), 8)

    directory = os.path.dirname(listen)
    if not os.path.isdir(directory):
        os.makedirs(directory)
        os.chmod(directory, directory_mode)
    if os.path.exists(listen):
        if listening(listen):
            fail(f"something already listens on {listen}: stop it first")
        os.unlink(listen)  # a stale socket file, as systemd would replace it
    # Made under another name and renamed when its owner and mode are right, as systemd's
    # socket is whole from the first connection on.
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    making = listen + ".new"
    if os.path.exists(making):
        os.unlink(making)
    listener.bind(making)
    os.chown(making, owner, group)
    os.chmod(making, mode)
    listener.listen(socket.SOMAXCONN)
    os.rename(making, listen)

    log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(listener.fileno(), 0)
    os.dup2(log, 1)  # StandardOutput=journal, StandardError=journal
    os.dup2(log, 2)
    os.close(log)
    listener.close()
    os.setgroups(extra_gids)
    os.setgid(run_gid)
    os.setuid(user.pw_uid)
    environment = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "LANG": "C.UTF-8"}
    os.execve(argv[0], argv, environment)


main()
