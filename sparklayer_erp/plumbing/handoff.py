"""Hand-offs between runs: every asset output another asset or check reads goes through the ledger database.

Dagster's default I/O manager pickles each output under ``$DAGSTER_HOME/storage`` on the local disk. Under a
container run launcher every run has its own disk, so a re-execution from failure, a push materialised on its
own (``sparklayer_stock`` reads ``erp_stock``'s extract) or a check run alone would not find its input, and
customer data would stay on that disk for ever. ``LedgerHandoffIOManager`` keeps the values in the ledger's
database instead (table ``handoffs``), which every process already reaches:

- one row per asset key and partition (``""`` when unpartitioned), replaced by the next materialisation; an
  op's output (no asset key) is kept under its run, step and output name, so a re-execution finds its parent's;
- rows not rewritten for ``HANDOFF_RETENTION_DAYS`` (default 7) are deleted whenever a new one is written;
- values are written as JSON (zlib-compressed), never pickled: a stored row can only ever become pandas
  frames, plain values and the project's own dataclasses and enums (``sparklayer_erp.*``), whatever it holds.
  Frames keep their dtypes, index and cell types (``Decimal``, dates, timestamps, lists, ...) exactly, so a
  push that reads a stored extract hashes the same rows as one that read it in the same run.

The codec lives in ``handoff_codec`` and is imported only when a value is handed on: pandas stays off the
import path of runs that hand nothing on (the order sync).
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from sparklayer_erp import settings
from sparklayer_erp.resources import LedgerResource, env_or_default

FORMAT = "json-v1+zlib"
RETENTION_ENV = "HANDOFF_RETENTION_DAYS"


# --- the I/O manager ------------------------------------------------------------------------------------------------


def _asset_key(context: dg.OutputContext | dg.InputContext) -> str:
    return "/".join(context.asset_key.path)


class LedgerHandoffIOManager(dg.ConfigurableIOManager):
    """Asset outputs in the ledger database (table ``handoffs``), readable by any run on any machine."""

    database_url: str = Field(default="", description="LEDGER_DATABASE_URL; empty = SQLite in the data folder")
    data_dir: str = Field(default="", description="SPARKLAYER_ERP_DATA_DIR")
    retention_days: str = Field(default="7", description=RETENTION_ENV)

    def _ledger(self):
        return LedgerResource(database_url=self.database_url, data_dir=self.data_dir).ledger()

    def keep_days(self) -> int:
        days = int(str(settings.check(RETENTION_ENV, self.retention_days)))
        if days < 1:
            raise settings.SettingError(f"{RETENTION_ENV} must be at least 1 (day), got {self.retention_days!r}")
        return days

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return  # nothing to hand on (Output(None) of an op)
        from sparklayer_erp.plumbing.handoff_codec import encode

        keep = self.keep_days()
        payload = encode(obj)
        led = self._ledger()
        if context.has_asset_key:
            key = _asset_key(context)
            partitions = list(context.asset_partition_keys) if context.has_asset_partitions else [""]
        else:
            key, partitions = "op:" + "/".join(context.get_identifier()), [""]
        deleted = 0
        for partition in partitions:
            deleted += led.save_handoff(key, partition, run_id=context.run_id, format=FORMAT, payload=payload,
                                        keep_days=keep)
        context.add_output_metadata({"handoff_bytes": len(payload), "handoff_expired_rows": deleted})
        if context.log is not None:
            context.log.debug(f"handed off {key} ({len(payload)} bytes) through the ledger; "
                              f"{deleted} hand-off(s) older than {keep} day(s) deleted")

    def load_input(self, context: dg.InputContext) -> Any:
        from sparklayer_erp.plumbing.handoff_codec import HandoffError, decode

        led = self._ledger()
        if context.has_asset_key:
            key = _asset_key(context)
            partitions = list(context.asset_partition_keys) if context.has_asset_partitions else [""]
        else:
            key, partitions = "op:" + "/".join(context.upstream_output.get_identifier()), [""]
        values = {}
        for partition in partitions:
            row = led.load_handoff(key, partition)
            if row is None:
                where = f" (partition {partition})" if partition else ""
                raise dg.Failure(
                    description=f"nothing stored for {key}{where}: materialise it first (a hand-off is kept "
                                f"{self.keep_days()} day(s), {RETENTION_ENV}, after its last materialisation)",
                    allow_retries=False)
            if row["format"] != FORMAT:
                raise HandoffError(f"{key}: stored as {row['format']!r}, this version reads {FORMAT!r}")
            values[partition] = decode(row["payload"])
        return values[partitions[0]] if len(partitions) == 1 else values


def handoff_io_manager() -> LedgerHandoffIOManager:
    """The I/O manager of the code location, fed from the same settings as the ledger."""
    e = env_or_default
    return LedgerHandoffIOManager(database_url=e("LEDGER_DATABASE_URL"), data_dir=e("SPARKLAYER_ERP_DATA_DIR"),
                                  retention_days=e(RETENTION_ENV))
