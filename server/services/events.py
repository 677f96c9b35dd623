"""Real-time event names: dotted, the same on the wire. The one list of them."""

TICKET_ISSUED = "ticket.issued"
TICKET_CALLED = "ticket.called"
TICKET_RECALLED = "ticket.recalled"
TICKET_UPDATED = "ticket.updated"
COUNTER_UPDATED = "counter.updated"
QUEUE_UPDATED = "queue.updated"
SNAPSHOT = "snapshot"
PRINT_JOB = "print.job"
PRINT_ACK = "print.ack"
PRINT_STATUS = "print.status"
DEVICE_STATUS = "device.status"
#: A rating was stored (counter page and display say thank you; supervisors follow lows).
RATING_RECORDED = "rating.recorded"
#: A station's agent came or went (supervisor page).
STATION_STATUS = "station.status"
#: To a phone following one ticket (/t/<code>): its ticket changed.
TICKET_STATUS = "ticket.status"
#: To phones following tickets of a line: something moved in it (no data about whom).
LINE_CHANGED = "line.changed"
#: To a kiosk page (its station's room): what the kiosk's scanner read (docs/privacy.md).
SCANNER_SCANNED = "scanner.scanned"

# Station protocol (namespace /station), beyond print jobs and device states.
#: agent -> server: one scan of a kiosk's serial barcode scanner (docs/devices.md).
SCANNER_SCAN = "scanner.scan"
#: agent -> server, with ack: one press of a rating pad (spooled, idempotency key).
RATING_SUBMIT = "rating.submit"
#: agent -> server: a call keypad's key (next, recall, finish, no_show).
COUNTER_COMMAND = "counter.command"
#: server -> agent: how a counter.command went (the LED board flashes a refusal).
COUNTER_RESULT = "counter.result"
#: server -> agent, on connect: the station's settings (rating scale…).
STATION_CONFIG = "station.config"
#: agent -> server, with ack: at connect and every heartbeat; the ack carries the
#: server's clock, from which the agent measures its own clock's offset.
STATION_HEARTBEAT = "station.heartbeat"

HALL_NAMESPACE = "/hall"
STATION_NAMESPACE = "/station"


def centre_room(centre_id: int) -> str:
    return f"centre:{centre_id}"


def station_room(station_id: int) -> str:
    return f"station:{station_id}"


def counter_room(counter_id: int) -> str:
    return f"counter:{counter_id}"


def ticket_room(public_code: str) -> str:
    """Phones following one ticket (server/realtime_follow.py)."""
    return f"ticket:{public_code}"


def line_room(service_id: int) -> str:
    """Phones following a ticket of this service's line."""
    return f"line:{service_id}"


def stations_room(centre_id: int) -> str:
    """Every connected station agent of a centre (namespace /station): LED boards."""
    return f"stations:{centre_id}"
