"""The one typed settings object. Nothing else reads the environment.

Every field can be set as ``PSHUB_<FIELD>`` (e.g. ``PSHUB_DATABASE_URL``). Secrets are kept out of
workflow arguments: flows receive ids and look clients up in the composition root.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pshub.policy import DEFAULT_POLICY_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PSHUB_", extra="ignore")

    data_dir: Path = Path(".pshub")
    database_url: str | None = None  # default: SQLite file in data_dir
    dbos_database_url: str | None = None  # default: alongside database_url
    policy_dir: Path | None = None  # default: data_dir/policy if present, else built-in
    app_name: str = "pshub"

    hub_host: str = "127.0.0.1"
    hub_port: int = 8700
    webhook_secret: str = "pshub-demo-webhook-secret"
    webhook_tolerance_seconds: float = Field(300, gt=0)
    log_level: str = "WARNING"

    salesforce_url: str = "https://127.0.0.1:8701"
    salesforce_client_id: str = "pshub-demo-client"
    salesforce_client_secret: str = "pshub-demo-secret"
    salesforce_ca_file: Path | None = None

    kantata_url: str = "http://127.0.0.1:8702"
    kantata_token: str = "pshub-demo-kantata-token"

    netsuite_url: str = "http://127.0.0.1:8703"
    netsuite_account_id: str = "1234567_SB1"
    netsuite_consumer_key: str = "pshub-demo-consumer-key"
    netsuite_consumer_secret: str = "pshub-demo-consumer-secret"
    netsuite_token_id: str = "pshub-demo-token-id"
    netsuite_token_secret: str = "pshub-demo-token-secret"
    netsuite_concurrency: int = Field(5, ge=1)

    # How long a flow keeps waiting for a target that is down before dead-lettering.
    outage_patience_seconds: float = Field(600, gt=0)
    step_retry_seconds: float = Field(20, gt=0)
    # While a billing run too big for one posting workflow drains, the queues nobody waits on
    # during it poll this often instead of every 0.1 s (0 keeps them at 0.1 s): decision 0011.
    quiet_polling_seconds: float = Field(1.0, ge=0)
    # Processes that plan, post and record a billing run's projects, each on its own core
    # (0: in the hub's own process). Decision 0012.
    posting_processes: int = Field(0, ge=0, le=64)
    # How long a thread may hold the interpreter before another that waits gets it (Python's
    # default is 5 ms; 0 keeps it). While billing threads price and record, an ERP answer
    # waits this long at most for the thread that reads it, holding a vendor slot. Decision
    # 0015.
    switch_interval_ms: float = Field(1.0, ge=0, le=100)
    # pshub serve: poll the PSA and start billing runs this often (0 disables).
    billing_interval_seconds: float = Field(30, ge=0)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'pshub.sqlite').resolve()}"

    def resolved_dbos_url(self) -> str:
        if self.dbos_database_url:
            return self.dbos_database_url
        url = self.resolved_database_url()
        if url.startswith("sqlite"):
            return f"sqlite:///{(self.data_dir / 'dbos.sqlite').resolve()}"
        return url.replace("postgresql+psycopg://", "postgresql://")

    def resolved_policy_dir(self) -> Path:
        if self.policy_dir:
            return self.policy_dir
        local = self.data_dir / "policy"
        return local if local.exists() else DEFAULT_POLICY_DIR
