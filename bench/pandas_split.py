"""The notebook's way of preparing the channels, timed for `npm run bench -- --only scale` (bench/scale.ts).

pandas read_csv, label encoding (scikit-learn LabelEncoder), train_test_split(shuffle=True, random_state, test_size),
and to_csv of both channels, headerless with the label first. Prints one JSON line: each step's wall time, the total,
and the process's peak RSS.

Usage: python3 pandas_split.py '{"csv": ..., "label": ..., "outDir": ..., "seed": 0, "testFraction": 0.25}'
"""
import json
import os
import resource
import sys
import time


def main():
    spec = json.loads(sys.argv[1])
    started = time.perf_counter()
    import pandas as pd
    import sklearn
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelEncoder

    imported = time.perf_counter()
    steps = {}

    def step(name, since):
        now = time.perf_counter()
        steps[name] = (now - since) * 1000
        return now

    t = time.perf_counter()
    frame = pd.read_csv(spec["csv"])
    t = step("read_csv", t)
    label = spec["label"]
    frame[label] = LabelEncoder().fit_transform(frame[label])
    # The channels are label first: the label column, then the features.
    frame = frame[[label] + [column for column in frame.columns if column != label]]
    t = step("label encoding", t)
    train, test = train_test_split(
        frame, test_size=spec["testFraction"], shuffle=True, random_state=spec["seed"]
    )
    t = step("train_test_split", t)
    train.to_csv(os.path.join(spec["outDir"], "train.csv"), header=False, index=False)
    t = step("to_csv train", t)
    test.to_csv(os.path.join(spec["outDir"], "test.csv"), header=False, index=False)
    t = step("to_csv test", t)
    total = (t - imported) * 1000
    print(
        json.dumps(
            {
                "pandas": pd.__version__,
                "sklearn": sklearn.__version__,
                "importMs": (imported - started) * 1000,
                "steps": steps,
                "totalMs": total,
                "trainRows": len(train),
                "testRows": len(test),
                # Linux reports ru_maxrss in KiB.
                "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
