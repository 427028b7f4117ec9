"""Generated census-style tables for the demo and the examples.

The demo must run offline and in seconds, yet behave like real tabular data so that
ghostrun's feedback means something: skewed numbers with missing values, categoricals
(one with high cardinality), a messy free-text job title, ISO date strings, and a binary
label that depends non-linearly on several features with interactions and noise.

Each customer has a hidden "affluence" drawn from a hash of (seed, customer id), so
`make_census` and `make_orders` called with the same seed describe the same people and
the orders table carries real signal after a join on `customer_id`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["LABEL", "KEY", "make_census", "make_orders", "write_demo_data"]

LABEL = "income_over_50k"
KEY = "customer_id"
_FIRST_ID = 100_001
_WORLD_SEED = 20_240_607  # fixed: cities and their effects are the same for every seed

_EDUCATION = (  # (level, share) ordered by education_num 1..16
    ("Preschool", 0.002), ("1st-4th", 0.005), ("5th-6th", 0.01), ("7th-8th", 0.02),
    ("9th", 0.016), ("10th", 0.029), ("11th", 0.036), ("12th", 0.013),
    ("HS-grad", 0.32), ("Some-college", 0.22), ("Assoc-voc", 0.042),
    ("Assoc-acdm", 0.033), ("Bachelors", 0.165), ("Masters", 0.054),
    ("Prof-school", 0.017), ("Doctorate", 0.013),
)
# occupation: (share, slope per education step, effect on the label's log-odds, roles)
_OCCUPATIONS: dict[str, tuple[float, float, float, tuple[str, ...]]] = {
    "Prof-specialty": (0.13, 0.45, 0.7, ("Software Engineer", "Data Scientist", "Accountant",
                                         "Teacher", "Registered Nurse", "Pharmacist",
                                         "Attorney", "Civil Engineer")),
    "Exec-managerial": (0.13, 0.35, 0.8, ("Operations Manager", "Project Manager",
                                          "Product Manager", "General Manager",
                                          "Finance Manager")),
    "Craft-repair": (0.13, -0.05, 0.0, ("Electrician", "Plumber", "Mechanic", "Carpenter",
                                        "Welder")),
    "Adm-clerical": (0.12, 0.05, -0.2, ("Office Clerk", "Receptionist", "Data Entry Clerk",
                                        "Bookkeeper", "Office Administrator")),
    "Sales": (0.115, 0.1, 0.2, ("Sales Representative", "Account Executive",
                                "Retail Associate", "Real Estate Agent")),
    "Other-service": (0.105, -0.25, -1.0, ("Cook", "Janitor", "Waiter", "Barista",
                                           "Cashier")),
    "Machine-op-inspct": (0.065, -0.25, -0.4, ("Machine Operator", "Quality Inspector",
                                               "Assembler", "CNC Operator")),
    "Transport-moving": (0.05, -0.2, -0.2, ("Truck Driver", "Delivery Driver",
                                            "Forklift Operator", "Bus Driver")),
    "Handlers-cleaners": (0.045, -0.3, -0.8, ("Warehouse Worker", "Material Handler",
                                              "Cleaner", "Laborer")),
    "Farming-fishing": (0.03, -0.25, -0.7, ("Farm Worker", "Fisherman", "Groundskeeper",
                                            "Ranch Hand")),
    "Tech-support": (0.03, 0.3, 0.3, ("IT Support Specialist", "Help Desk Technician",
                                      "Systems Administrator", "Network Technician")),
    "Protective-serv": (0.02, 0.0, 0.2, ("Police Officer", "Security Guard", "Firefighter",
                                         "Correctional Officer")),
    "Priv-house-serv": (0.005, -0.3, -1.5, ("Nanny", "Housekeeper", "Caregiver")),
    "Armed-Forces": (0.001, 0.0, 0.0, ("Soldier", "Sergeant", "Navy Officer")),
}
_OFFICE = [list(_OCCUPATIONS).index(o) for o in ("Prof-specialty", "Exec-managerial",
                                                  "Tech-support")]
# seniority level 0..4 -> title prefixes as people actually type them, and label effect
_SENIORITY = (
    (("Junior ", "Jr. ", "jr ", "Trainee ", "Intern - "), -0.6),
    (("",), 0.0),
    (("Senior ", "Sr. ", "Sr ", "senior "), 0.5),
    (("Lead ", "Principal ", "Staff "), 0.8),
    (("Head ", "Chief ", "Director, "), 1.3),
)
_PART_TIME_SUFFIXES = (" (part-time)", " - PT", " part time", ", Part-Time")
_OTHER_SUFFIXES = ("", "", "", "", " II", " - contract", " (remote)", "  ")
_WORKCLASS = (("Private", 0.70), ("Self-emp-not-inc", 0.08), ("Local-gov", 0.064),
              ("State-gov", 0.04), ("Self-emp-inc", 0.034), ("Federal-gov", 0.03),
              ("Without-pay", 0.001))
_RACE = (("White", 0.854), ("Black", 0.096), ("Asian-Pac-Islander", 0.031),
         ("Amer-Indian-Eskimo", 0.01), ("Other", 0.009))
_COUNTRIES = ("United-States", "Mexico", "Philippines", "Germany", "Puerto-Rico", "Canada",
              "El-Salvador", "India", "Cuba", "England", "China", "South", "Jamaica",
              "Italy", "Dominican-Republic", "Japan", "Guatemala", "Poland", "Vietnam",
              "Columbia", "Haiti", "Portugal", "Taiwan", "Iran", "Greece", "Nicaragua",
              "Peru", "Ecuador", "France", "Ireland", "Hong", "Thailand", "Cambodia",
              "Trinadad&Tobago", "Outlying-US(Guam-USVI-etc)", "Laos", "Yugoslavia",
              "Scotland", "Honduras", "Hungary")
_MARITAL = ("Never-married", "Married-civ-spouse", "Divorced", "Separated", "Widowed",
            "Married-spouse-absent", "Married-AF-spouse")
_ORDER_CATEGORIES = ("grocery", "home", "fashion", "electronics", "books", "sports",
                     "travel")


def _unit_hash(ids: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """Uniform (0, 1) values from a splitmix64 hash: the same customer gets the same
    value whatever the table size, so two tables generated apart still agree."""
    with np.errstate(over="ignore"):
        x = ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        salt = np.uint64((seed * 1_000_003 + stream) & 0xFFFF_FFFF_FFFF)
        x ^= salt * np.uint64(0xD1B54A32D192ED03)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


def _affluence(ids: np.ndarray, seed: int) -> np.ndarray:
    """Hidden standard-normal trait per customer (Box-Muller over two hash streams)."""
    u1, u2 = _unit_hash(ids, seed, 1), _unit_hash(ids, seed, 2)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _pick(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    names = np.array([name for name, _ in table], dtype=object)
    shares = np.array([share for _, share in table])
    return names[rng.choice(len(names), size=n, p=shares / shares.sum())]


def _gumbel_choice(rng: np.random.Generator, logits: np.ndarray) -> np.ndarray:
    """Sample one category per row from row-wise logits (vectorised Gumbel-max)."""
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)


def _with_missing(
    rng: np.random.Generator, values: np.ndarray, rate: float | np.ndarray
) -> np.ndarray:
    """Blank out a share of the values (`rate` may vary by row: missing not at random)."""
    out = values.astype(object if values.dtype.kind in "OUS" else np.float64)
    out[rng.random(len(values)) < rate] = None if out.dtype == object else np.nan
    return out


def _cities() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """About 900 made-up city names with Zipf-like shares and small label effects."""
    world = np.random.default_rng(_WORLD_SEED)
    heads = ("Ash", "Bel", "Cedar", "Clear", "Elm", "Fair", "Glen", "Green", "High", "Lake",
             "Maple", "Mill", "North", "Oak", "Pine", "Red", "River", "Rock", "Salt", "Silver",
             "South", "Spring", "Stone", "Sun", "West", "Wood", "Bright", "Cold", "East", "Fox")
    tails = ("burg", "ville", "field", "ford", "haven", "port", "wood", "dale", "ton", "view",
             " City", " Falls", " Springs", "mont", "brook", "water", "ridge", " Heights",
             "land", "side", " Grove", " Park", "stead", " Hills", "chester", "bury", "well",
             " Bay", " Junction", "by")
    names = np.array([h + t for h in heads for t in tails], dtype=object)
    names = names[world.permutation(len(names))]
    shares = 1.0 / (np.arange(len(names)) + 8.0) ** 1.15
    return names, shares / shares.sum(), world.normal(0.0, 0.45, len(names))


def _demographics(rng: np.random.Generator, n: int, aff: np.ndarray) -> dict[str, np.ndarray]:
    age = np.clip(17 + rng.gamma(2.3, 9.0, n) + 2.0 * aff, 17, 90).astype(np.int64)
    shares = np.array([share for _, share in _EDUCATION])
    edu_u = _normal_cdf(0.65 * aff + 0.76 * rng.standard_normal(n))
    edu_num = np.searchsorted(np.cumsum(shares) / shares.sum(), edu_u).clip(0, 15) + 1
    young, old = (age < 27).astype(float), (age > 62).astype(float)
    constant = np.ones(n)
    marital_logits = np.column_stack([  # in the order of _MARITAL
        0.6 + 2.5 * young - 0.5 * old, 1.4 - 1.5 * young + 0.15 * aff, 0.2 + 0.3 * old,
        -1.6 * constant, -3.5 + 3.2 * old, -2.3 * constant, -6.0 * constant])
    marital = np.array(_MARITAL, dtype=object)[_gumbel_choice(rng, marital_logits)]
    sex = np.where(rng.random(n) < 0.67, "Male", "Female").astype(object)
    married = np.isin(marital, ("Married-civ-spouse", "Married-AF-spouse"))
    single_rel = np.where(young > 0, "Own-child", "Not-in-family").astype(object)
    single_rel[rng.random(n) < 0.25] = "Unmarried"
    single_rel[rng.random(n) < 0.04] = "Other-relative"
    relationship = np.where(married, np.where(sex == "Male", "Husband", "Wife"), single_rel)
    dependents = rng.poisson(np.where(married, 1.4, 0.3) * np.where(age < 55, 1.0, 0.3))
    return {"age": age, "education_num": edu_num, "marital_status": marital, "sex": sex,
            "relationship": relationship, "num_dependents": dependents, "married": married}


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF via the logistic approximation (max error about 1e-4)."""
    return 1.0 / (1.0 + np.exp(-1.5976 * x - 0.070566 * x**3))


def _work(rng: np.random.Generator, d: dict[str, np.ndarray], aff: np.ndarray) -> None:
    n = len(aff)
    occ_names = list(_OCCUPATIONS)
    base = np.log([_OCCUPATIONS[o][0] for o in occ_names])
    slope = np.array([_OCCUPATIONS[o][1] for o in occ_names])
    occ_idx = _gumbel_choice(rng, base + np.outer(d["education_num"] - 10, slope))
    employed = rng.random(n) > 0.056  # like Adult, workclass and occupation vanish together
    level_score = (0.06 * (d["age"] - 38) + 0.5 * aff + 0.15 * (d["education_num"] - 10)
                   + rng.normal(0, 1.0, n))
    level = np.digitize(level_score, (-1.6, 0.9, 1.9, 2.7))
    part_time = rng.random(n) < np.where((d["age"] < 25) | (d["age"] > 65), 0.35, 0.07)
    d["workclass"] = np.where(employed, _pick(rng, _WORKCLASS, n), None)
    d["occupation"] = np.where(employed, np.array(occ_names, dtype=object)[occ_idx], None)
    d["job_title"] = np.where(employed, _titles(rng, occ_idx, level, part_time), None)
    hours = np.where(part_time, rng.normal(21, 6, n), rng.normal(40.5 + 2.2 * level, 7, n))
    d["hours_per_week"] = np.clip(np.round(hours), 1, 99).astype(np.int64)
    d["years_in_job"] = np.minimum(rng.poisson(0.12 * (d["age"] - 16) + 0.5), d["age"] - 16)
    d["occ_idx"], d["level"], d["part_time"], d["employed"] = occ_idx, level, part_time, employed


def _titles(rng: np.random.Generator, occ_idx: np.ndarray, level: np.ndarray,
            part_time: np.ndarray) -> np.ndarray:
    """Free-text job titles with the spelling noise of a web form."""
    n = len(occ_idx)
    roles = [np.array(v[3], dtype=object) for v in _OCCUPATIONS.values()]
    counts = np.array([len(r) for r in roles])
    flat = np.concatenate(roles)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    role = flat[offsets[occ_idx] + (rng.random(n) * counts[occ_idx]).astype(np.int64)]
    prefix = np.empty(n, dtype=object)
    for lvl, (variants, _) in enumerate(_SENIORITY):
        at = level == lvl
        prefix[at] = np.array(variants, dtype=object)[rng.integers(0, len(variants), at.sum())]
    suffix = np.array(_OTHER_SUFFIXES, dtype=object)[rng.integers(0, len(_OTHER_SUFFIXES), n)]
    pt = np.array(_PART_TIME_SUFFIXES, dtype=object)[rng.integers(0, 4, n)]
    titles = pd.Series(prefix + role + np.where(part_time, pt, suffix))
    case = rng.random(n)
    titles = titles.where(case > 0.08, titles.str.lower()).where(case < 0.97, titles.str.upper())
    return titles.to_numpy(dtype=object)


def _money(rng: np.random.Generator, d: dict[str, np.ndarray], aff: np.ndarray) -> None:
    n = len(aff)
    has_gain = rng.random(n) < 1.0 / (1.0 + np.exp(-(1.1 * aff - 3.0)))
    gain = np.minimum(np.round(np.exp(rng.normal(7.9 + 0.5 * aff, 1.1, n)), -1), 99_999.0)
    gain[rng.random(n) < 0.006] = 99_999.0
    d["capital_gain"] = np.where(has_gain, gain, 0.0)
    has_loss = rng.random(n) < 0.045
    d["capital_loss"] = np.where(has_loss, np.round(rng.normal(1880, 380, n).clip(150)), 0.0)
    invest = np.round(np.exp(rng.normal(6.0 + 0.9 * aff, 1.3, n)), 2)
    # missing not at random: people with little to report leave the field empty
    d["investment_income"] = _with_missing(rng, invest, 0.08 + 0.14 * (aff < -0.5))
    credit = np.clip(np.round(685 + 45 * aff + rng.normal(0, 60, n)), 300, 850)
    d["credit_score"] = _with_missing(rng, credit, 0.05)
    d["commute_km"] = _with_missing(rng, np.round(rng.gamma(1.6, 9.0, n), 1), 0.09)


def _dates(rng: np.random.Generator, age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signup dates as ISO strings (older customers joined earlier) and tenure in years."""
    span = (np.datetime64("2024-12-31") - np.datetime64("2012-01-01")).astype(np.int64)
    earliness = np.clip(rng.beta(1.3, 1.3, len(age)) + 0.004 * (age - 38), 0, 1)
    days_before_end = (earliness * span).astype(np.int64)
    dates = np.datetime64("2024-12-31") - days_before_end.astype("timedelta64[D]")
    iso = _with_missing(rng, dates.astype(str).astype(object), 0.02)
    return iso, days_before_end / 365.25


def _label(rng: np.random.Generator, d: dict[str, np.ndarray], aff: np.ndarray,
           city_effect: np.ndarray, tenure: np.ndarray) -> np.ndarray:
    """Log-odds with curvature, thresholds and interactions, then Bernoulli noise."""
    edu, hours, age = d["education_num"], d["hours_per_week"], d["age"]
    occ_effect = np.array([v[2] for v in _OCCUPATIONS.values()])[d["occ_idx"]]
    seniority = np.array([effect for _, effect in _SENIORITY])[d["level"]]
    age_bump = np.exp(-(((age - 48.0) / 14.0) ** 2))
    edu_gain = np.where(edu >= 9, 0.35 * (edu - 9), 0.12 * (edu - 9)) * (0.5 + age_bump)
    office = np.isin(d["occ_idx"], _OFFICE) & d["employed"]
    degree, long_hours, married = edu >= 13, hours > 45, d["married"]
    z = (-4.25 + 1.5 * age_bump + edu_gain
         + 1.6 * married + 0.6 * (married & long_hours)
         + 0.04 * (np.minimum(hours, 60) - 40) * np.where(office, 1.6, 0.6)
         + np.where(d["capital_gain"] > 7_000, 3.2, 0.5 * (d["capital_gain"] > 0))
         + 1.1 * ((d["capital_loss"] > 1_750) & (d["capital_loss"] < 2_050))
         + np.where(d["employed"], occ_effect, -0.9)
         + seniority * (np.where(office, 1.4, 0.6) + 0.4 * degree)
         - d["part_time"] * np.where(age < 25, 0.3, 1.3)
         + 1.2 * (degree & (age >= 30) & (age <= 60) & long_hours & married)
         + city_effect * np.where(degree, 1.6, 0.5)
         + 0.04 * np.minimum(tenure, 10) + 1.1 * aff + rng.normal(0, 1.1, len(aff)))
    return (rng.random(len(z)) < 1.0 / (1.0 + np.exp(-z))).astype(np.int64)


def make_census(n_rows: int = 200_000, seed: int = 0) -> pd.DataFrame:
    """A census-style customer table with the binary label `income_over_50k`.

    Deterministic for (n_rows, seed). Customer ids run from 100001 upwards; each
    customer's hidden affluence depends only on (seed, customer_id), which is what
    `make_orders` with the same seed shares.
    """
    if n_rows < 1:
        raise ValueError(f"make_census(n_rows={n_rows}): ask for at least one row.")
    rng = np.random.default_rng([seed, 1])
    ids = np.arange(_FIRST_ID, _FIRST_ID + n_rows, dtype=np.int64)
    aff = _affluence(ids, seed)
    d = _demographics(rng, n_rows, aff)
    _work(rng, d, aff)
    _money(rng, d, aff)
    city_names, city_shares, city_effects = _cities()
    city_idx = rng.choice(len(city_names), size=n_rows, p=city_shares)
    signup, tenure = _dates(rng, d["age"])
    y = _label(rng, d, aff, city_effects[city_idx], tenure)
    edu_names = np.array([name for name, _ in _EDUCATION], dtype=object)
    countries = np.array(_COUNTRIES, dtype=object)
    country_p = np.r_[0.895, np.full(len(_COUNTRIES) - 1, 0.105 / (len(_COUNTRIES) - 1))]
    return pd.DataFrame({
        KEY: ids, "age": d["age"], "workclass": d["workclass"],
        "education": edu_names[d["education_num"] - 1], "education_num": d["education_num"],
        "marital_status": d["marital_status"], "occupation": d["occupation"],
        "job_title": d["job_title"], "relationship": d["relationship"],
        "race": _pick(rng, _RACE, n_rows), "sex": d["sex"],
        "capital_gain": d["capital_gain"], "capital_loss": d["capital_loss"],
        "hours_per_week": d["hours_per_week"],
        "native_country": _with_missing(
            rng, countries[rng.choice(len(countries), n_rows, p=country_p)], 0.018),
        "city": city_names[city_idx], "signup_date": signup,
        "num_dependents": d["num_dependents"], "years_in_job": d["years_in_job"],
        "investment_income": d["investment_income"], "credit_score": d["credit_score"],
        "commute_km": d["commute_km"], LABEL: y,
    })


def make_orders(n_customers: int = 200_000, seed: int = 0) -> pd.DataFrame:
    """Purchase history of the customers of `make_census(n_customers, seed)`.

    Joinable on `customer_id`; some customers have no orders. Spending follows the same
    hidden affluence as the census label, so aggregates of this table help the model.
    """
    if n_customers < 1:
        raise ValueError(f"make_orders(n_customers={n_customers}): ask for at least one.")
    rng = np.random.default_rng([seed, 2])
    ids = np.arange(_FIRST_ID, _FIRST_ID + n_customers, dtype=np.int64)
    aff = _affluence(ids, seed)
    per_customer = rng.poisson(np.exp(0.6 + 0.45 * aff))
    owner = np.repeat(np.arange(n_customers), per_customer)
    n = len(owner)
    a = aff[owner]
    cat_logits = np.zeros((n, len(_ORDER_CATEGORIES)))
    cat_logits[:, 0] = 0.8 - 0.4 * a  # grocery: everyone, a little less the affluent
    cat_logits[:, 6] = -1.5 + 0.9 * a  # travel: the affluent
    category = np.array(_ORDER_CATEGORIES, dtype=object)[_gumbel_choice(rng, cat_logits)]
    span = (np.datetime64("2024-12-31") - np.datetime64("2019-01-01")).astype(np.int64)
    day = np.datetime64("2019-01-01") + rng.integers(0, span + 1, n).astype("timedelta64[D]")
    order = np.argsort(day, kind="stable")
    amount = np.round(np.exp(rng.normal(3.5 + 0.35 * a + 0.9 * (category == "travel"), 0.8)), 2)
    return pd.DataFrame({
        "order_id": np.arange(1, n + 1, dtype=np.int64),
        KEY: ids[owner][order],
        "order_date": day[order].astype(str).astype(object),
        "category": category[order],
        "amount": amount[order],
        "returned": (rng.random(n) < 0.08 - 0.02 * (a > 1))[order].astype(np.int64),
    })


def write_demo_data(folder: Path, n_rows: int = 200_000, seed: int = 0) -> dict[str, Path]:
    """Write `census.csv` and `orders.csv` into `folder` (created if missing).

    Returns the written paths by table name. Files are written to a temporary name and
    renamed, so a reader never sees half a file.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {"census": make_census(n_rows, seed), "orders": make_orders(n_rows, seed)}
    paths: dict[str, Path] = {}
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        tmp = path.with_name(f".{path.name}.tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(path)
        paths[name] = path
    return paths
