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

# Station protocol (namespace /station), beyond print jobs and device states.
#: agent -> server, with ack: one press of a rating pad (spooled, idempotency key).
RATING_SUBMIT = "rating.submit"
#: agent -> server: a call keypad's key (next, recall, finish, no_show).
COUNTER_COMMAND = "counter.command"
#: server -> agent: how a counter.command went (the LED board flashes a refusal).
COUNTER_RESULT = "counter.result"
#: server -> agent, on connect: the station's settings (rating scale…).
STATION_CONFIG = "station.config"

HALL_NAMESPACE = "/hall"
STATION_NAMESPACE = "/station"


def centre_room(centre_id: int) -> str:
    return f"centre:{centre_id}"


def station_room(station_id: int) -> str:
    return f"station:{station_id}"


def counter_room(counter_id: int) -> str:
    return f"counter:{counter_id}"


def stations_room(centre_id: int) -> str:
    """Every connected station agent of a centre (namespace /station): LED boards."""
    return f"stations:{centre_id}"
