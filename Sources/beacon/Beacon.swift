import BeaconCore
@main struct Beacon { static func main() {} }
