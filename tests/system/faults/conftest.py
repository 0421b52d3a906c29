"""The fault tests share one pair of throw-away private servers (harness.private_servers)."""

from tests.system.faults import harness

own_services, private_servers = harness.own_services, harness.private_servers
