public enum SessionCorePlaceholder {}
