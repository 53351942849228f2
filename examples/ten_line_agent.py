"""The README's ten-line agent, in Python: `python examples/ten_line_agent.py` with GATEHOUSE_URL and
GATEHOUSE_AGENT_TOKEN set (`pip install ./clients/python` first). The Python client's tests run it as is."""
from datetime import datetime, timedelta, timezone

from gatehouse import Gatehouse, Pending

last_month = (datetime.now(timezone.utc).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
with Gatehouse() as gh, gh.start_session("clean up the test billing records from last month") as session:
    found = session.propose("billing.query", {"testOnly": True, "period": last_month}, "look before deleting")
    print(found.status, found.result["matched"], "test records")
    delete = session.propose("billing.deleteRecords", {"testOnly": True, "period": last_month}, "the intent says so", wait=5, wait_for_final=False)
    if isinstance(delete, Pending):
        print("held for approval", delete.approval_id)  # a person decides: `npx gatehouse approvals list`
        delete = session.wait_for(delete)  # until they do; the deadline denies
    print(delete.status, delete.decision.rules)
