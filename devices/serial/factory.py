"""Drivers from the station config: one driver per port, however many devices share it.

The station TOML lists devices one by one (``[[ratingpads]]``, ``[[keypads]]``,
``[[ledboards]]``, each with ``name``, ``url``, ``counter_id``, ``address``, ``keymap``).
Several entries with the same ``url`` are devices on one RS-485 bus: they become one
driver, because a port can be opened only once. The port's state is reported for every
entry on it (``on_state`` is called once per entry name), so the server sees each device.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from devices.serial.driver import (
    CommandCallback,
    DeviceState,
    KeypadDriver,
    LedBoardDriver,
    RatingCallback,
    RatingPadDriver,
    SerialTiming,
    StateCallback,
)
from devices.serial.rating import DEBOUNCE_WINDOW, RatingScale

#: Address of an LED board on a port of its own, when the config gives none.
DEFAULT_BOARD_ADDRESS = 1


class SerialEntry(Protocol):
    """What the factory reads from a config entry (devices.config.SerialDeviceConfig)."""

    name: str
    url: str
    counter_id: int | str | None
    address: int | None
    keymap: Mapping[str, str | int] | None


def rating_pad_drivers(
    entries: Iterable[SerialEntry],
    *,
    on_rating: RatingCallback,
    on_state: StateCallback | None = None,
    scale: RatingScale | None = None,
    debounce: float = DEBOUNCE_WINDOW,
    timing: SerialTiming | None = None,
) -> list[RatingPadDriver]:
    """One :class:`RatingPadDriver` per port for the ``[[ratingpads]]`` entries."""
    drivers = []
    for url, group in _by_port(entries).items():
        counter_id, addresses = _key_routes(group)
        drivers.append(
            RatingPadDriver(
                _port_name(group),
                url,
                on_rating=on_rating,
                scale=scale,
                counter_id=counter_id,
                addresses=addresses,
                key_map=_shared_keymap(group),
                debounce=debounce,
                on_state=_fan_out(group, on_state),
                timing=timing,
            )
        )
    return drivers


def keypad_drivers(
    entries: Iterable[SerialEntry],
    *,
    on_command: CommandCallback,
    on_state: StateCallback | None = None,
    debounce: float = DEBOUNCE_WINDOW,
    timing: SerialTiming | None = None,
) -> list[KeypadDriver]:
    """One :class:`KeypadDriver` per port for the ``[[keypads]]`` entries."""
    drivers = []
    for url, group in _by_port(entries).items():
        counter_id, addresses = _key_routes(group)
        drivers.append(
            KeypadDriver(
                _port_name(group),
                url,
                on_command=on_command,
                counter_id=counter_id,
                addresses=addresses,
                key_map=_shared_keymap(group),
                debounce=debounce,
                on_state=_fan_out(group, on_state),
                timing=timing,
            )
        )
    return drivers


def led_board_drivers(
    entries: Iterable[SerialEntry],
    *,
    on_state: StateCallback | None = None,
    width: int | None = None,
    ascii_only: bool = True,
    timing: SerialTiming | None = None,
) -> list[LedBoardDriver]:
    """One :class:`LedBoardDriver` per port for the ``[[ledboards]]`` entries."""
    drivers = []
    for url, group in _by_port(entries).items():
        boards: dict[int | str, int] = {}
        for entry in group:
            if entry.counter_id is None:
                raise ValueError(f"LED board {entry.name!r}: counter_id is required")
            address = DEFAULT_BOARD_ADDRESS if entry.address is None else entry.address
            boards[entry.counter_id] = address
        drivers.append(
            LedBoardDriver(
                _port_name(group),
                url,
                boards=boards,
                width=width,
                ascii_only=ascii_only,
                on_state=_fan_out(group, on_state),
                timing=timing,
            )
        )
    return drivers


def _by_port(entries: Iterable[SerialEntry]) -> dict[str, list[SerialEntry]]:
    groups: dict[str, list[SerialEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.url, []).append(entry)
    return groups


def _port_name(group: list[SerialEntry]) -> str:
    return "+".join(entry.name for entry in group)


def _key_routes(
    group: list[SerialEntry],
) -> tuple[int | str | None, dict[int, int | str] | None]:
    for entry in group:
        if entry.counter_id is None:
            raise ValueError(f"{entry.name!r}: counter_id is required")
    if len(group) == 1 and group[0].address is None:
        return group[0].counter_id, None
    addresses: dict[int, int | str] = {}
    for entry in group:
        if entry.address is None:
            raise ValueError(f"{entry.name!r} shares {entry.url} with others: set its address")
        if entry.address in addresses:
            raise ValueError(f"{entry.name!r}: address {entry.address} is used twice")
        addresses[entry.address] = entry.counter_id  # type: ignore[assignment]
    return None, addresses


def _shared_keymap(group: list[SerialEntry]) -> dict[str | int, str] | None:
    maps = {tuple(sorted((str(k), str(v)) for k, v in (e.keymap or {}).items())) for e in group}
    if len(maps) > 1:
        raise ValueError(f"devices on {group[0].url} must share one keymap")
    keymap = group[0].keymap
    return None if keymap is None else {k: str(v) for k, v in keymap.items()}


def _fan_out(group: list[SerialEntry], on_state: StateCallback | None) -> StateCallback | None:
    if on_state is None:
        return None
    names = [entry.name for entry in group]

    def report(_port: str, state: DeviceState, reason: str | None) -> None:
        for name in names:
            on_state(name, state, reason)

    return report
