"""House prices, a script that already has functions and a main()."""
import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

DATA = "data/houses.csv"


def load(path):
    return pd.read_csv(path)


def add_features(df, min_rooms=1):
    df = df.copy()
    df["area_per_room"] = df["area"] / df["rooms"].clip(lower=min_rooms)
    df["log_area"] = np.log1p(df["area"])
    return df


def train_model(X, y, n_estimators=100, max_depth=8):
    model = RandomForestRegressor(n_estimators=n_estimators, max_depth=max_depth,
                                  random_state=0, n_jobs=1)
    return model.fit(X, y)


def evaluate(model, X, y):
    return float(np.sqrt(mean_squared_error(y, model.predict(X))))


def main():
    df = load(DATA)
    df = add_features(df)
    X = df.drop(columns=["price", "district"])
    y = df["price"]
    X_train, X_valid, y_train, y_valid = train_test_split(X, y, test_size=0.3, random_state=1)
    model = train_model(X_train, y_train, n_estimators=60)
    print(f"validation RMSE: {evaluate(model, X_valid, y_valid):.6f}")


if __name__ == "__main__":
    main()
