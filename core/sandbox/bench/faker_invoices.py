"""The generator a user would otherwise write: Faker (de_CH) producing the same kind of records
(contacts, invoices with positions, payments) as the sandbox's synthetic company, kept in memory.

Usage: faker_invoices.py N   — prints seconds and invoices/s for N invoices.
"""
import random
import sys
import time
from decimal import Decimal, ROUND_HALF_UP

from faker import Faker


def main(n: int) -> None:
    fake = Faker("de_CH")
    Faker.seed(42)
    rng = random.Random(42)
    started = time.perf_counter()
    contacts = [
        {
            "id": i + 1,
            "name_1": fake.company(),
            "street_name": fake.street_name(),
            "house_number": fake.building_number(),
            "postcode": fake.postcode(),
            "city": fake.city(),
            "mail": fake.company_email(),
        }
        for i in range(max(25, n // 25))
    ]
    invoices, positions, payments = [], 0, 0
    for i in range(n):
        contact = rng.choice(contacts)
        lines = []
        for p in range(rng.randint(1, 4)):
            qty = Decimal(rng.randint(1, 16))
            price = Decimal(rng.randint(50, 2000)).quantize(Decimal("0.01"))
            total = (qty * price).quantize(Decimal("0.01"), ROUND_HALF_UP)
            lines.append({"pos": p + 1, "text": fake.bs(), "amount": qty, "unit_price": price, "position_total": total, "tax_value": Decimal("8.1")})
        net = sum(l["position_total"] for l in lines)
        taxes = (net * Decimal("0.081")).quantize(Decimal("0.0001"))
        total = ((net + taxes) / Decimal("0.05")).quantize(Decimal("1"), ROUND_HALF_UP) * Decimal("0.05")
        date = fake.date_between(start_date="-4y", end_date="today")
        inv = {"id": i + 1, "document_nr": f"RE-{i + 1:05}", "contact_id": contact["id"], "contact_address": f"{contact['name_1']}\n{contact['street_name']} {contact['house_number']}\n{contact['postcode']} {contact['city']}", "is_valid_from": date, "total_net": net, "total_taxes": taxes, "total": total, "positions": lines, "payments": []}
        if rng.random() < 0.8:
            inv["payments"].append({"date": fake.date_between(start_date=date, end_date="today"), "value": total})
            payments += 1
        positions += len(lines)
        invoices.append(inv)
    secs = time.perf_counter() - started
    print(f"{n:>10} {secs:>10.2f} {n / secs:>14.0f} {positions:>10} {payments:>10}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
