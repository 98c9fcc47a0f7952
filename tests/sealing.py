"""The keyring and the data converter every test's Temporal client, worker and replayer use: the service's own
(pacte.codec.data_converter), sealed with a keyring of this test process."""

from __future__ import annotations

from pathlib import Path

from pacte.codec import data_converter, for_replay
from pacte.keyring import Keyring

TEST_KEYRING = Keyring.generate("test-1")
CONVERTER = data_converter(TEST_KEYRING)

# The recorded histories (tests/histories/) are sealed with a keyring kept beside them, public on purpose: it seals
# nothing but these fixtures. Histories recorded before payloads were sealed replay with REPLAY_CONVERTER only, which
# also opens unsealed payloads; no worker or client ever uses it.
FIXTURES_KEYRING = Keyring.from_json((Path(__file__).parent / "histories" / "fixtures.keyring").read_text())
RECORDING_CONVERTER = data_converter(FIXTURES_KEYRING)
REPLAY_CONVERTER = for_replay(
    data_converter(
        Keyring(active=FIXTURES_KEYRING.active, keys={**TEST_KEYRING.keys, **FIXTURES_KEYRING.keys}),
        open_unsealed=True,
    )
)
