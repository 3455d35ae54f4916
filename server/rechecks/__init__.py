"""Re-checks (准确率): the town office's reproducible sample of households per village and month, what a re-check found."""
