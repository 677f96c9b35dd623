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

HALL_NAMESPACE = "/hall"
STATION_NAMESPACE = "/station"


def centre_room(centre_id: int) -> str:
    return f"centre:{centre_id}"


def station_room(station_id: int) -> str:
    return f"station:{station_id}"


def counter_room(counter_id: int) -> str:
    return f"counter:{counter_id}"
