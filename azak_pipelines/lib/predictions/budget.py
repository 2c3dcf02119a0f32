"""The per-run spending limit (``AZAK_LLM_BUDGET_USD``).

Before a call, its worst case (prompt estimate × input price + max tokens × output price) is
reserved; a call whose worst case would cross the limit is not made. So the run never spends
more than the budget, even with calls in flight.
"""

from dataclasses import dataclass


@dataclass
class Budget:
    limit_usd: float | None  # None: unlimited
    spent_usd: float = 0.0
    reserved_usd: float = 0.0

    def reserve(self, worst_case_usd: float) -> bool:
        if self.limit_usd is not None and self.spent_usd + self.reserved_usd + worst_case_usd > self.limit_usd:
            return False
        self.reserved_usd += worst_case_usd
        return True

    def settle(self, reserved_usd: float, actual_usd: float) -> None:
        self.reserved_usd -= reserved_usd
        self.spent_usd += actual_usd

    def reason(self) -> str:
        return (f"run budget of ${self.limit_usd:.4f} reached (${self.spent_usd:.4f} spent, "
                f"${self.reserved_usd:.4f} in flight): not called; raise AZAK_LLM_BUDGET_USD to go on")
