"""Churn with XGBoost, scored by out-of-fold predictions of a stratified K-fold loop."""
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from xgboost import XGBClassifier

train = pd.read_csv("data/churn.csv")
features = [c for c in train.columns if c not in ("churn", "customer_id", "contract", "payment")]
oof = np.zeros(len(train))

skf = StratifiedKFold(n_splits=4, shuffle=True, random_state=0)
for fold, (tr, va) in enumerate(skf.split(train[features], train["churn"])):
    model = XGBClassifier(n_estimators=80, max_depth=4, learning_rate=0.1, n_jobs=1)
    model.fit(train[features].iloc[tr], train["churn"].iloc[tr])
    oof[va] = model.predict_proba(train[features].iloc[va])[:, 1]
    print(f"fold {fold}: {roc_auc_score(train['churn'].iloc[va], oof[va]):.4f}")

score = roc_auc_score(train["churn"], oof)
print(f"OOF AUC: {score:.6f}")
