"""Station TOML config: typed sections, defaults, environment overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.config import (
    ConfigError,
    KeypadConfig,
    LedBoardConfig,
    PrinterConfig,
    RatingPadConfig,
    load_config,
)

EXAMPLE = """
server_url = "http://127.0.0.1:8000/"
station_token_file = "station.token"
spool_dir = "spool"

[[printers]]
name = "kiosk-printer"
url = "usb://0416:5011"
mode = "raster"
profile = "TM-T20II"
default = true

[[printers]]
name = "spare"
url = "tcp://192.168.1.50:9100"

[[ratingpads]]
name = "pad-1"
url = "serial:///dev/serial/by-id/usb-FTDI-if00-port0?baudrate=9600"
counter_id = 1
address = 3
keymap = { "A" = "5", "B" = 4 }

[[ledboards]]
name = "led-1"
url = "serial:///dev/serial/by-id/usb-CH340-if00-port0"
counter_id = "Q1"

[[keypads]]
name = "keys-1"
url = "serial:///dev/serial/by-id/usb-PL2303-if00-port0"
counter_id = 1
"""


def write(tmp_path: Path, text: str, token: str | None = "s3cret\n") -> Path:
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    if token is not None:
        (tmp_path / "station.token").write_text(token)
    return path


def test_example_config_loads_into_typed_sections(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, EXAMPLE), env={})

    assert config.server_url == "http://127.0.0.1:8000"
    assert config.station_token == "s3cret"
    assert config.spool_dir == tmp_path / "spool"
    assert config.printer() == PrinterConfig(
        name="kiosk-printer", url="usb://0416:5011", mode="raster", profile="TM-T20II", default=True
    )
    assert config.printer("spare").mode == "text"
    assert config.ratingpads == (
        RatingPadConfig(
            name="pad-1",
            url="serial:///dev/serial/by-id/usb-FTDI-if00-port0?baudrate=9600",
            counter_id=1,
            address=3,
            keymap={"A": "5", "B": 4},
        ),
    )
    assert isinstance(config.ledboards[0], LedBoardConfig)
    assert config.ledboards[0].counter_id == "Q1"
    assert isinstance(config.keypads[0], KeypadConfig)


def test_environment_overrides_server_and_token(tmp_path: Path) -> None:
    env = {"TTHCC_AGENT_SERVER_URL": "https://tthcc.example.vn", "TTHCC_STATION_TOKEN": "env"}
    config = load_config(write(tmp_path, EXAMPLE, token=None), env=env)
    assert (config.server_url, config.station_token) == ("https://tthcc.example.vn", "env")


def test_a_single_printer_is_the_default(tmp_path: Path) -> None:
    text = (
        'server_url = "http://h"\nstation_token = "t"\n[[printers]]\nname = "p"\nurl = "sim://x"\n'
    )
    assert load_config(write(tmp_path, text), env={}).printer().name == "p"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('station_token = "t"', "server_url must be an http:// or https:// URL"),
        ('server_url = "http://h"', "a station token is required"),
        ('server_url = "http://h"\nstation_token = "t"\nprinter = 1', "unknown key"),
        (
            'server_url = "http://h"\nstation_token = "t"\n[[printers]]\nname = "p"\nurl = "lp0"',
            r"\[\[printers\]\] 'p'.*must start with one of",
        ),
        (
            'server_url = "http://h"\nstation_token = "t"\n[[printers]]\nname = "p"',
            "missing required key.*url",
        ),
        (
            'server_url = "http://h"\nstation_token = "t"\n'
            '[[printers]]\nname = "p"\nurl = "sim://a"\nmode = "colour"',
            'mode must be "text" or "raster"',
        ),
        (
            'server_url = "http://h"\nstation_token = "t"\n'
            '[[printers]]\nname = "p"\nurl = "sim://a"\ndefault = "yes"',
            "default must be true or false",
        ),
        (
            'server_url = "http://h"\nstation_token = "t"\n'
            '[[printers]]\nname = "a"\nurl = "sim://a"\n[[printers]]\nname = "b"\nurl = "sim://b"',
            "none is default",
        ),
        (
            'server_url = "http://h"\nstation_token = "t"\n'
            '[[printers]]\nname = "a"\nurl = "sim://a"\n[[keypads]]\nname = "a"\nurl = "x"',
            "unique.*'a'",
        ),
        (
            'server_url = "http://h"\nstation_token = "t"\n'
            '[[ratingpads]]\nname = "p"\nurl = "x"\naddress = "3"',
            "address must be an integer",
        ),
        ("server_url = ", "not valid TOML"),
        (
            'server_url = "http://h"\nstation_token = "t"\ntransports = "websocket"',
            "must be a list",
        ),
        ('server_url = "http://h"\nstation_token = "t"\ntransports = []', "must be a list"),
        (
            'server_url = "http://h"\nstation_token = "t"\ntransports = ["websocket", "smoke"]',
            "may name polling and websocket, each once",
        ),
        (
            'server_url = "http://h"\nstation_token = "t"\ntransports = ["websocket", "websocket"]',
            "each once",
        ),
        (
            'server_url = "http://h"\nstation_token = "t"\nca_file = "ca.pem"',
            "only for an https://",
        ),
        ('server_url = "https://h"\nstation_token = "t"\nca_file = "ca.pem"', "no such file"),
        ('server_url = "https://h"\nstation_token = "t"\nca_file = 3', "must be a path string"),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(tmp_path, text, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text, token=None), env={})


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml", env={})


def test_a_hub_station_speaks_websocket_only_and_trusts_the_hubs_ca(tmp_path: Path) -> None:
    (tmp_path / "hub-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    text = 'server_url = "https://hub"\nstation_token = "t"\nca_file = "hub-ca.pem"\ntransports = ["websocket"]'
    config = load_config(write(tmp_path, text), env={})
    assert config.transports == ("websocket",)
    assert config.ca_file == tmp_path / "hub-ca.pem"
    default = load_config(write(tmp_path, 'server_url = "http://h"\nstation_token = "t"'), env={})
    assert default.transports == ("polling", "websocket") and default.ca_file is None
