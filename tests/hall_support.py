"""Hall accounts for the tests: valid 居民身份证号 (GB 11643 check characters), and an online case run to its end."""

from __future__ import annotations

from onewindow.engine import ApplicantView, Engine

from .helpers import ALL_FI_MATERIALS, FI, FI_APPLICANT, PASSWORD, open_tasks

# Valid numbers: the standard's own example, and two more whose check characters were computed by hand.
ALICE_ID, BOB_ID, CAROL_ID = "11010519491231002X", "510107199003071236", "510107198505120048"


def register(engine: Engine, id_number: str = ALICE_ID, mobile: str = "13800138000", *, kind: str = "applicant",
             name: str = "王小明") -> ApplicantView:  # fmt: skip
    engine.applicants.scrypt_n = 2**4  # cheap hashes: the hash cost is not what these tests are about
    return engine.applicants.register(kind, name, id_number, mobile, PASSWORD)


def online_filing(engine: Engine, owner: int) -> str:
    """A filing applied for online by ``owner``; its case number (waiting for the window's pre-check)."""
    draft = engine.applications.create(owner, FI)
    engine.applications.save(owner, draft.id, dict(FI_APPLICANT))
    return engine.applications.submit(owner, draft.id, actor=f"hall:{owner}").case_no


def refuse_acceptance(engine: Engine, case_no: str) -> None:
    """The window refuses the filing (negative list): the case ends 不予受理 in two steps."""
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_Intake"].id,
        user="lijing",
        data={"materials_received": ALL_FI_MATERIALS, "negative_list": True},
    )
    engine.tasks.complete(
        open_tasks(engine, case_no)["Task_RefuseAcceptance"].id,
        user="lijing",
        data={"reasons": "拟设立企业属于外商投资准入负面清单,不适用备案"},
    )
