"""ZooKeeper from Debian's `zookeeper` package, standalone, TLS-only on a loopback port.

Started as Debian's zkServer.sh would (`java -cp zookeeper.jar QuorumPeerMain zoo.cfg`), in the
foreground under the lab's pidfile; the plain client port is off (`secureClientPort` only) and
clients must present a certificate from the lab's CA (`ssl.clientAuth=need`)."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from certkit.lab.processes import Daemon
from certkit.zuullab.tls import TLSFiles

# zookeeper.jar's manifest names netty's buffer, common, handler and transport jars, but not the
# codec and resolver the TLS (Netty) connection factory needs: Debian's package adds them only
# in zkEnv.sh's CLASSPATH for the init script. Listed here, with a simple slf4j binding.
JARS = tuple(f"/usr/share/java/{jar}.jar" for jar in (
    "zookeeper", "netty-codec", "netty-resolver", "netty-transport-native-unix-common",
    "slf4j-simple"))
HEAP = "-Xmx256m"
JVM = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
"""A small, short-lived server on a shared 2-core machine: one GC thread instead of G1's pool,
and only the quick JIT tier (C2's compiler threads cost CPU at every start for throughput a
lab with one client never needs)."""


def zoo_cfg(data_dir: Path, port: int, tls: TLSFiles) -> str:
    """zoo.cfg for one TLS-only standalone server (no admin server, no four-letter words)."""
    return "\n".join([
        "tickTime=2000",
        f"dataDir={data_dir}",
        f"secureClientPort={port}",
        "secureClientPortAddress=127.0.0.1",
        "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory",
        f"ssl.keyStore.location={tls.server_keystore}",
        "ssl.keyStore.type=PEM",
        f"ssl.trustStore.location={tls.ca}",
        "ssl.trustStore.type=PEM",
        "ssl.clientAuth=need",
        "admin.enableServer=false",
        "4lw.commands.whitelist=",
        "autopurge.purgeInterval=1",
        "",
    ])


def daemon(conf: Path, run_dir: Path, log_dir: Path) -> Daemon:
    return Daemon("zookeeper", ["java", HEAP, *JVM, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                                "-cp", ":".join(JARS),
                                "org.apache.zookeeper.server.quorum.QuorumPeerMain", str(conf)],
                  run_dir, log_dir)


def tls_handshake(port: int, tls: TLSFiles) -> bool:
    """Whether ZooKeeper completes a TLS handshake with the lab's client certificate."""
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.load_cert_chain(str(tls.client_cert), str(tls.client_key))
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1"):
            return True
