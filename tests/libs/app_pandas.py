# requires: pandas (python3-pandas)
"""pandas: read_csv from a StringIO, groupby/agg, merge, pivot, datetimes, to_json/to_csv."""
import io

import pandas as pd

csv = """city,year,sales,date
Oslo,2020,10.5,2020-01-03
Oslo,2021,12.0,2021-02-04
Rome,2020,8.25,2020-03-05
Rome,2021,9.75,2021-04-06
Lima,2021,4.0,2021-05-07
"""
df = pd.read_csv(io.StringIO(csv), parse_dates=["date"])
print(df.dtypes.astype(str).to_dict())
g = df.groupby("city")["sales"].agg(["sum", "mean", "count"]).sort_index()
print(g.to_string())
pv = df.pivot_table(index="city", columns="year", values="sales", aggfunc="sum").fillna(0)
print(pv.to_csv())
pop = pd.DataFrame({"city": ["Oslo", "Rome", "Lima"], "pop": [0.7, 2.8, 9.7]})
m = df.merge(pop, on="city").assign(per=lambda d: (d.sales / d["pop"]).round(3))
print(m[["city", "year", "per"]].to_json(orient="records"))
print(df.set_index("date").resample("YS")["sales"].sum().to_dict())
print(pd.Series([3, 1, 2]).rolling(2).mean().tolist(), pd.__version__ >= "1")
