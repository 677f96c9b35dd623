"""Socket.IO names of the station protocol (docs/station-protocol.md), same as on the wire."""

NAMESPACE = "/station"

PRINT_JOB = "print.job"  #: server -> agent
PRINT_ACK = "print.ack"  #: agent -> server
DEVICE_STATUS = "device.status"  #: agent -> server
#: agent -> server, call at connect and every heartbeat; the ack carries the server's clock
HEARTBEAT = "station.heartbeat"

ACK_PRINTED = "printed"
ACK_FAILED = "failed"
