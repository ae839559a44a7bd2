"""In-memory fakes of the ports (same Protocols as the real connectors)."""

from __future__ import annotations

import threading
from collections import Counter

from pshub.connectors.errors import NotFoundError, TransientError
from pshub.domain.parties import Account, LegalEntity
from pshub.domain.projects import Project
from pshub.domain.sales import Opportunity
from pshub.flows.ports import ProvisioningWriteBack, PsaProjectRef


class FakeCrm:
    system = "salesforce"

    def __init__(self) -> None:
        self.opportunities: dict[str, Opportunity] = {}
        self.accounts: dict[str, Account] = {}
        self.write_backs: dict[str, ProvisioningWriteBack] = {}

    def add(self, opp: Opportunity, *parents: Account) -> None:
        self.opportunities[opp.source_id] = opp
        for account in (opp.account, *parents):
            self.accounts[account.source_id] = account

    def get_opportunity(self, source_id: str) -> Opportunity:
        if source_id not in self.opportunities:
            raise NotFoundError(f"no opportunity {source_id}", vendor=self.system)
        return self.opportunities[source_id]

    def get_account(self, source_id: str) -> Account:
        if source_id not in self.accounts:
            raise NotFoundError(f"no account {source_id}", vendor=self.system)
        return self.accounts[source_id]

    def write_back_provisioning(
        self, opportunity_source_id: str, ids: ProvisioningWriteBack
    ) -> None:
        self.write_backs[opportunity_source_id] = ids


class FakePsa:
    system = "kantata"

    def __init__(self) -> None:
        self.projects: dict[str, Project] = {}
        self.calls: Counter[str] = Counter()
        self.down_for = 0  # fail this many calls with a transient error

    def upsert_project(self, project: Project, customer_name: str) -> PsaProjectRef:
        self.calls["upsert_project"] += 1
        if self.down_for > 0:
            self.down_for -= 1
            raise TransientError("503 service unavailable", vendor=self.system, status=503)
        self.projects[project.id] = project
        number = list(self.projects).index(project.id) + 1
        return PsaProjectRef(
            project_id=str(1000 + number),
            task_ids={t.id: f"{number}-t{i}" for i, t in enumerate(project.tasks)},
            milestone_ids={m.id: f"{number}-m{i}" for i, m in enumerate(project.milestones)},
        )


class FakeErp:
    system = "netsuite"

    def __init__(self) -> None:
        self.customers: dict[str, tuple[Account, str, str | None]] = {}
        self.jobs: dict[str, tuple[Project, str]] = {}

    def upsert_customer(
        self, account: Account, entity: LegalEntity, parent_erp_id: str | None
    ) -> str:
        self.customers[account.id] = (account, entity.erp_subsidiary_id, parent_erp_id)
        return str(list(self.customers).index(account.id) + 100)

    def upsert_job(self, project: Project, customer_erp_id: str, entity: LegalEntity) -> str:
        self.jobs[project.id] = (project, customer_erp_id)
        return str(list(self.jobs).index(project.id) + 500)


class FakeErpBilling:
    """An ERP billing port that keeps postings by external id (an upsert, like the vendor)."""

    system = "netsuite"

    def __init__(self, reject_memo: str | None = None) -> None:
        from pshub.flows.ports import ErpBillingLine

        self.postings: dict[str, ErpBillingLine] = {}
        self.requests = 0
        self.reject_memo = reject_memo
        self._lock = threading.Lock()  # a project's requests arrive several at once

    def post_billing_lines(self, lines):  # type: ignore[no-untyped-def]
        with self._lock:
            return self._post(lines)

    def _post(self, lines):  # type: ignore[no-untyped-def]
        from pshub.flows.ports import ErpPostResult

        self.requests += 1
        results = []
        for line in lines:
            if self.reject_memo and self.reject_memo in line.memo:
                results.append(
                    ErpPostResult(key=line.key, ok=False, error="item: invalid", fields=("item",))
                )
                continue
            self.postings[line.external_id] = line
            results.append(
                ErpPostResult(
                    key=line.key, ok=True, erp_id=str(list(self.postings).index(line.external_id))
                )
            )
        return results
