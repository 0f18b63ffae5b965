/// What scanning a doorplate's QR code found on this device.
///
/// ```swift
/// switch try store.scan("FSP1:JS0412-00088K") {
/// case .known(let plate, let households): show(plate.address, households)
/// case .unknown(let code): offerToRegister(code)   // valid plate, not on this device yet
/// }
/// ```
public enum ScanResult: Sendable, Hashable {
    case known(Doorplate, households: [Household])
    case unknown(DoorplateCode)
}
