public enum SessionServerPlaceholder {}
