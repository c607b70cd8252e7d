"""Reference numbers stay unique when many residents report at the same moment."""
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

THREADS, CALLS = 8, 25


def _numbers(uow_factory, prefix: str, year: int, start: Barrier) -> list[int]:
    start.wait()
    numbers = []
    for _ in range(CALLS):
        with uow_factory() as uow:
            numbers.append(uow.tickets.next_number(prefix, year))
            uow.commit()
    return numbers


def test_numbers_count_up_per_prefix_and_year(uow_factory):
    with uow_factory() as uow:
        got = [uow.tickets.next_number("KOZ", 2026) for _ in range(3)]
        got += [uow.tickets.next_number("KOZ", 2027), uow.tickets.next_number("KRA", 2026)]
        uow.commit()
    with uow_factory() as uow:
        got.append(uow.tickets.next_number("KOZ", 2026))
    assert got == [1, 2, 3, 1, 1, 4]


def test_a_rolled_back_report_does_not_use_up_a_number(uow_factory):
    with uow_factory() as uow:
        uow.tickets.next_number("KOZ", 2026)
    with uow_factory() as uow:
        assert uow.tickets.next_number("KOZ", 2026) == 1


def test_concurrent_reports_get_distinct_increasing_numbers(uow_factory):
    start = Barrier(THREADS)
    jobs = [("KOZ", 2026), ("KRA", 2026)] * (THREADS // 2)
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(_numbers, uow_factory, prefix, year, start) for prefix, year in jobs]
        results = [(job, future.result(timeout=120)) for job, future in zip(jobs, futures)]
    for prefix in ("KOZ", "KRA"):
        issued = [n for (p, _), numbers in results if p == prefix for n in numbers]
        assert sorted(issued) == list(range(1, len(issued) + 1)), f"{prefix}: duplicates or gaps"
    for _, numbers in results:
        assert numbers == sorted(set(numbers)), "each reporter sees numbers only go up"
