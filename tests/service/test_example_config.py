"""examples/mmemd.toml, the config the README's serve command names, is valid and serves locally as it says."""

from __future__ import annotations

from pathlib import Path

from mmemd.service._config import is_loopback, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mmemd.toml"


def test_example_config_loads_as_a_local_single_user_service() -> None:
    cfg = load_config(EXAMPLE, env={})
    assert cfg.local_mode and is_loopback(cfg.host)
    assert not cfg.key_required
    assert cfg.cds_hooks.card_language == "zh"
