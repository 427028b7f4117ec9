"""House prices with a scikit-learn Pipeline: two files joined, a ColumnTransformer, Ridge."""
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

TARGET = "price"
NUMERIC = ["area", "rooms", "age", "area_per_room", "district_income"]
CATEGORICAL = ["district"]

houses = pd.read_csv("data/houses.csv")
extra = pd.read_csv("data/districts.csv")
houses = houses.merge(extra, on="district", how="left")
houses["area_per_room"] = houses["area"] / houses["rooms"].clip(lower=1)

train, test = train_test_split(houses, test_size=0.2, random_state=0)

numeric = Pipeline([
    ("impute", SimpleImputer(strategy="median")),
    ("scale", StandardScaler()),
])
preprocess = ColumnTransformer([
    ("num", numeric, NUMERIC),
    ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
])
pipe = Pipeline([("prep", preprocess), ("reg", Ridge(alpha=1.0))])
pipe.fit(train.drop(columns=[TARGET]), train[TARGET])

pred = pipe.predict(test.drop(columns=[TARGET]))
rmse = mean_squared_error(test[TARGET], pred) ** 0.5
mae = mean_absolute_error(test[TARGET], pred)
print(f"RMSE {rmse:.6f}")
print(f"MAE {mae:.6f}")
test.assign(pred=pred).to_csv("predictions.csv", index=False)
