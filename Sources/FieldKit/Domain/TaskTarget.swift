import SyncKit

/// What a task is about: a household (by id) or a doorplate (by code).
///
/// ```swift
/// TaskTarget.doorplate(code).storedText          // "doorplate:JS0412-00088"
/// try TaskTarget(storedText: "household:0F3K9Z...")
/// ```
public enum TaskTarget: Sendable, Hashable, CustomStringConvertible {
    case household(EntityID)
    case doorplate(DoorplateCode)

    /// The form kept in the `target` column.
    public var storedText: String {
        switch self {
        case .household(let id): "household:\(id.rawValue)"
        case .doorplate(let code): "doorplate:\(code.canonical)"
        }
    }

    public init(storedText: String) throws {
        if storedText.hasPrefix("household:"), let id = try? EntityID(String(storedText.dropFirst("household:".count))) {
            self = .household(id)
        } else if storedText.hasPrefix("doorplate:"), let code = try? DoorplateCode(parsing: String(storedText.dropFirst("doorplate:".count))) {
            self = .doorplate(code)
        } else {
            throw FieldError(.invalidValue, field: "target",
                "task target “\(storedText.prefix(48))” is neither household:<id> nor doorplate:<code>")
        }
    }

    public var description: String { storedText }
}
