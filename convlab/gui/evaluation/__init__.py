"""The Evaluation tab: accuracy, confusion matrix and the worst mistakes."""
