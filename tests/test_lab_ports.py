"""One port allocator for every lab (certkit.lab.ports), the kept ports re-checked at each
`up` (Lab.ports, and the manila lab's recovery.verify), and the one line a failed `up` prints.
No lab needed: sockets on loopback only (fast)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from certkit.lab import ports
from certkit.lab.base import Lab, NeedsDown, failure_line
from certkit.lab.processes import LabError


def repeating(port_source: list[int]):
    """A chooser that offers the given ports in order, each bound with SO_REUSEPORT so the
    same port can be offered twice while held: what the kernel did to the old allocator."""
    def choose() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port_source.pop(0) if port_source else 0))
        return sock
    return choose


@pytest.fixture
def a_port():
    """A port the kernel picked (free once the fixture closed its socket)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_repeated_candidate_is_refused_and_another_taken(a_port):
    chosen = ports.allocate(["db", "epmd", "rabbit"], choose=repeating([a_port, a_port, a_port]))
    assert chosen["db"] == a_port
    assert len(set(chosen.values())) == 3, chosen


def test_default_allocation_holds_every_socket_until_all_are_chosen():
    held = []
    real = ports.bind_any

    def spy() -> socket.socket:
        sock = real()
        held.append(sock)
        return sock
    chosen = ports.allocate([f"p{i}" for i in range(30)], choose=spy)
    assert len(set(chosen.values())) == 30
    assert all(s.fileno() == -1 for s in held), "every candidate socket is closed afterwards"


def test_ports_the_lab_keeps_are_never_chosen_again(a_port):
    chosen = ports.allocate(["keystone"], taken={"db": a_port}, choose=repeating([a_port]))
    assert chosen["keystone"] != a_port


def test_no_distinct_port_is_one_line_naming_the_service(a_port):
    with pytest.raises(LabError, match=f"no free TCP port for epmd on 127.0.0.1 after {ports.ATTEMPTS}"):
        ports.allocate(["epmd"], taken={"db": a_port}, choose=repeating([a_port] * 100))


def test_conflicts_are_duplicates_and_busy_ports_the_lab_does_not_hold(a_port):
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        busy = stranger.getsockname()[1]
        assert ports.in_use(busy) and not ports.in_use(a_port)
        kept = {"db": a_port, "epmd": a_port, "keystone": busy}
        assert ports.conflicts(kept, owned=lambda name: False) == ["epmd", "keystone"]
        # the lab's own running service holds its port: that is no conflict
        assert ports.conflicts(kept, owned=lambda name: name == "keystone") == ["epmd"]


class ToyLab(Lab):
    name = "toy"

    def can_run(self):
        return None

    def up(self):
        pass

    def down(self):
        pass

    def status(self):
        return True

    def env(self):
        return {}


def test_lab_ports_are_kept_across_ups_and_rechecked(tmp_path: Path, a_port):
    lab = ToyLab(tmp_path / "toy")
    first = lab.ports(["a", "b"], owned=lambda name: False)
    assert len(set(first.values())) == 2
    assert lab.ports(["a", "b"], owned=lambda name: False) == first  # free and distinct: kept
    # the saved file says a and b share a port (the wedge seen in the field): b moves
    (lab.dir / "ports.json").write_text(f'{{"a": {a_port}, "b": {a_port}}}')
    again = lab.ports(["a", "b"], owned=lambda name: False)
    assert again["a"] == a_port and again["b"] != a_port
    with socket.socket() as stranger:  # a stranger took a's port while the lab was down
        stranger.bind(("127.0.0.1", a_port))
        stranger.listen()
        moved = lab.ports(["a", "b"], owned=lambda name: False)
        assert moved["a"] != a_port and moved["b"] == again["b"]
    (lab.dir / "ports.json").write_text("not json")
    assert len(set(lab.ports(["a", "b"], owned=lambda name: False).values())) == 2


def test_a_failed_up_says_in_one_line_what_to_run():
    retry = failure_line("manila", LabError("rabbitmq exited"), recovers=True)
    assert retry.startswith("lab up manila failed: rabbitmq exited (`certkit lab up manila` again")
    assert failure_line("cephfs", LabError("x"), recovers=False).endswith(
        "(run `certkit lab down cephfs` before the next `up`)")
    assert "before the next `up`" in failure_line("manila", NeedsDown("state"), recovers=True)
    named = failure_line("manila", NeedsDown("unreadable; run `certkit lab down manila`"), True)
    assert named.count("lab down manila") == 1 and "\n" not in named


# -- the manila lab's `up` re-checks what its state file says --------------------------------
def test_manila_lab_state_with_colliding_ports_is_repaired_before_anything_starts(tmp_path, a_port):
    from certkit.livestack import recovery
    from certkit.livestack.procs import ProcessTable
    from certkit.livestack.state import LabState

    state = LabState.new("p.yaml", "p", "b", False)
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        busy = stranger.getsockname()[1]
        # what the old allocator saved: PostgreSQL and epmd on one port; Keystone's taken since
        state.ports = {"db": a_port, "rabbit": a_port + 0, "epmd": a_port, "keystone": busy}
        said: list[str] = []
        fresh = recovery.verify(tmp_path, state, ProcessTable(tmp_path), said.append)
        assert fresh == sorted(["epmd", "keystone", "manila_api", "rabbit", "rabbit_dist"])
        assert set(state.ports) == set(recovery.PORTS)
        assert len(set(state.ports.values())) == len(recovery.PORTS), state.ports
        assert state.ports["db"] == a_port and busy not in state.ports.values()
        assert said == ["port(s) of rabbit, epmd, keystone in use by something else or shared: "
                        "choosing new ones and restarting what uses them"]


def test_a_forced_collision_in_the_allocator_never_reaches_the_state(tmp_path, a_port):
    from certkit.livestack import recovery
    from certkit.livestack.procs import ProcessTable
    from certkit.livestack.state import LabState

    state = LabState.new("p.yaml", "p", "b", False)
    recovery.verify(tmp_path, state, ProcessTable(tmp_path), lambda line: None,
                    choose=repeating([a_port] * 6))
    assert len(set(state.ports.values())) == len(recovery.PORTS), state.ports


def test_a_lab_process_without_a_pidfile_is_found_by_its_tag_and_stopped(tmp_path):
    from certkit.lab.processes import is_alive
    from certkit.livestack import recovery
    from certkit.livestack.procs import ProcessTable
    from certkit.livestack.state import LabState

    table = ProcessTable(tmp_path)
    kept = table.spawn("rabbitmq", ["sleep", "300"])
    lost = table.spawn("keystone", ["sleep", "300"])
    (table.pids / "keystone.pid").unlink()  # an `up` killed before it wrote the pidfile
    try:
        assert [pid for pid, _ in recovery.strays(tmp_path, table)] == [lost]
        state = LabState.new("p.yaml", "p", "b", False)
        said: list[str] = []
        recovery.verify(tmp_path, state, table, said.append)
        assert said[0] == "stopping 1 process(es) a previous `up` left without a pidfile"
        assert not is_alive(lost) and is_alive(kept)
        assert [pid for pid, _ in recovery.strays(tmp_path, table, everything=True)] == [kept]
    finally:
        table.stop("rabbitmq")
        table.stop("keystone")


def test_a_child_in_a_session_of_its_own_still_belongs_to_its_service(tmp_path):
    """RabbitMQ's erl_child_setup starts its own session under the tracked rabbitmq-server."""
    from certkit.lab.processes import wait_until
    from certkit.livestack import recovery
    from certkit.livestack.procs import ProcessTable

    table = ProcessTable(tmp_path)
    table.spawn("rabbitmq", ["sh", "-c", "setsid sleep 300 & wait"])
    try:
        children = wait_until("the setsid child", 10, lambda: [
            pid for pid, _ in recovery.strays(tmp_path, table, everything=True)
            if pid != table.pid_of("rabbitmq")])
        assert recovery.strays(tmp_path, table) == [], children
    finally:
        table.stop("rabbitmq")
        from certkit.lab.processes import kill_and_wait, tagged

        kill_and_wait(tagged(tmp_path))
